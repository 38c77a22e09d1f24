/**
 * The only script of keel's pages (served as /assets/keel-ui.js; a report inlines it): draws every
 * `[data-chart]` element with vega-embed, makes `table.sortable` sortable by a click on a header,
 * and sends the action forms (`form[data-action]`) as POSTs with the CSRF header and the admin key.
 * `window.keelCharts` maps chart ids to their Vega views; `window.keelChartsReady` settles when all
 * are drawn (the browser tests wait on it).
 */
export const clientScript = String.raw`(() => {
  'use strict';
  const views = {};
  window.keelCharts = views;
  const nodes = Array.from(document.querySelectorAll('[data-chart]'));
  window.keelChartsReady = Promise.all(nodes.map(async (node) => {
    const id = node.dataset.chart;
    const spec = JSON.parse(document.getElementById(id + '-spec').textContent);
    const result = await vegaEmbed(node, spec, { actions: false, renderer: 'svg' });
    views[id] = result.view;
  })).then(() => Object.keys(views).length, (error) => {
    console.error('keel: a chart failed to draw', error);
    throw error;
  });

  for (const table of document.querySelectorAll('table.sortable')) {
    const headers = Array.from(table.tHead ? table.tHead.rows[0].cells : []);
    headers.forEach((th, column) => {
      th.tabIndex = 0;
      th.title = 'sort';
      const sort = () => {
        const descending = th.dataset.sorted !== 'desc';
        headers.forEach((other) => delete other.dataset.sorted);
        th.dataset.sorted = descending ? 'desc' : 'asc';
        const body = table.tBodies[0];
        const value = (row) => {
          const cell = row.cells[column];
          const text = cell ? (cell.dataset.value ?? cell.textContent.trim()) : '';
          const number = Number(text);
          return text !== '' && Number.isFinite(number) ? number : text;
        };
        const rows = Array.from(body.rows).sort((a, b) => {
          const x = value(a);
          const y = value(b);
          const order = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
          return descending ? -order : order;
        });
        for (const row of rows) body.appendChild(row);
      };
      th.addEventListener('click', sort);
      th.addEventListener('keydown', (event) => { if (event.key === 'Enter') sort(); });
    });
  }

  // A live page reloads itself, but never under an operator who is typing or has typed.
  const refresh = Number(document.body.dataset.refresh || 0);
  if (refresh > 0) {
    setInterval(() => {
      const busy = Array.from(document.querySelectorAll('input')).some((input) => input.value !== '' && input.id !== 'admin-key' && input.id !== 'approver')
        || (document.activeElement && document.activeElement.tagName === 'INPUT');
      if (!busy) location.reload();
    }, refresh * 1000);
  }

  const keyInput = document.getElementById('admin-key');
  if (keyInput) {
    keyInput.value = sessionStorage.getItem('keel-admin-key') || '';
    keyInput.addEventListener('change', () => sessionStorage.setItem('keel-admin-key', keyInput.value));
  }
  for (const form of document.querySelectorAll('form[data-action]')) {
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const button = event.submitter || form.querySelector('button');
      const output = form.querySelector('.action-result') || document.getElementById('action-result');
      const key = sessionStorage.getItem('keel-admin-key') || '';
      const body = Object.fromEntries(new FormData(form).entries());
      if (button && button.name) body[button.name] = button.value;
      const reason = document.getElementById('action-reason');
      if (reason && reason.value && !body.reason) body.reason = reason.value;
      const approver = document.getElementById('approver');
      if (approver && approver.value) body.approver = approver.value;
      if (button) button.disabled = true;
      try {
        const response = await fetch(form.action, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-keel-action': '1', ...(key ? { authorization: 'Bearer ' + key } : {}) },
          body: JSON.stringify(body),
        });
        const answer = await response.json().catch(() => ({ message: response.statusText }));
        if (output) {
          output.textContent = (response.ok ? '' : 'refused: ') + (answer.message || response.status);
          output.className = 'action-result ' + (response.ok ? 'ok' : 'error');
        }
        if (response.ok) setTimeout(() => location.reload(), 800);
      } finally {
        if (button) button.disabled = false;
      }
    });
  }
})();
`;
