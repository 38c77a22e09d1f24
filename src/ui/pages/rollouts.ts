import { canaryHealthSpec, canaryTrafficSpec } from '../charts/canary';
import { chart } from '../html/chart';
import { formatDate } from '../html/format';
import { h, type Html } from '../html/template';
import { paths, type TemporalLinks, temporalWorkflowsUrl, temporalWorkflowUrl } from '../links';
import type { Rollout, RolloutDetail } from '../loaders/rollouts';
import { badge, layout } from './layout';

/** Whether this dashboard may act, and whether an admin key must come with each action. */
export interface ActionAccess {
  enabled: boolean;
  keyRequired: boolean;
  /** Why actions are off (shown instead of the buttons). */
  reason?: string;
}

function adminKeyField(access: ActionAccess): Html {
  if (!access.enabled) return h`<p class="note">Actions are off: ${access.reason ?? 'read-only'}.</p>`;
  return access.keyRequired
    ? h`<p><label>Admin key <input type="password" id="admin-key" autocomplete="off" size="28"></label> <span class="muted">(KEEL_ADMIN_KEYS; kept for this tab only)</span></p>`
    : h``;
}

export function rolloutsPage(list: Rollout[], links: TemporalLinks): Html {
  const body = list.length
    ? h`<table class="sortable" id="rollouts"><thead><tr><th>started</th><th>model</th><th>candidate</th><th>baseline</th><th>status</th><th>decided by</th><th>reason</th></tr></thead><tbody>${list.map(
        (r) =>
          h`<tr><td data-value="${r.startedAt.toISOString()}"><a href="${paths.rollout(r.id)}">${formatDate(r.startedAt)}</a></td><td><a href="${paths.model(r.modelName)}">${r.modelName}</a></td><td>v${r.candidateVersion}</td><td>v${r.baselineVersion}</td><td>${badge(r.status)}</td><td>${r.decidedBy ?? '–'}</td><td>${r.reason ?? ''}</td></tr>`,
      )}</tbody></table>`
    : h`<p class="note">No canary rollouts yet. <code>keel rollouts start &lt;model&gt; &lt;version&gt;</code>, or a pipeline with <code>rollout.strategy: canary</code>, starts one.</p>`;
  return layout({
    title: 'Canary rollouts',
    section: 'rollouts',
    temporal: { href: temporalWorkflowsUrl(links, 'canaryRollout'), label: 'canaryRollout runs' },
    body,
  });
}

export function rolloutPage(detail: RolloutDetail, access: ActionAccess, links: TemporalLinks, now: Date): Html {
  const r = detail.rollout;
  const running = r.status === 'running';
  const action = (name: string) => `/actions/rollouts/${encodeURIComponent(r.modelName)}/${name}`;
  const button = (name: string, label: string, style = '') =>
    h`<form class="inline" method="post" action="${action(name)}" data-action="${name}"><button type="submit" class="${style}" id="${name}-button">${label}</button></form>`;
  const body = h`<dl class="facts">
  <dt>model</dt><dd><a href="${paths.model(r.modelName)}">${r.modelName}</a>: candidate <a href="${paths.version(r.modelName, r.candidateVersion)}">v${r.candidateVersion}</a> against baseline <a href="${paths.version(r.modelName, r.baselineVersion)}">v${r.baselineVersion}</a></dd>
  <dt>status</dt><dd>${badge(r.status)} ${r.decidedBy ? h`by ${r.decidedBy}: ${r.reason}` : ''}</dd>
  <dt>started</dt><dd>${formatDate(r.startedAt)} by ${r.initiator}</dd>
  <dt>ended</dt><dd>${formatDate(r.endedAt)}</dd>
  <dt>settings</dt><dd><code>${JSON.stringify(r.settings)}</code></dd>
</dl>
${
  running
    ? h`<div class="panel" id="rollout-actions"><h3>Steer the rollout</h3>${adminKeyField(access)}${
        access.enabled
          ? h`<p><label>reason <input id="action-reason" size="40"></label></p>
${button('pause', 'Pause')}${button('resume', 'Resume')}${button('promote', 'Promote now', 'primary')}${button('rollback', 'Roll back', 'danger')}
<p id="action-result" class="action-result"></p>`
          : ''
      }</div>`
    : ''
}
<div class="charts">${detail.traffic.length ? chart('canary-traffic', canaryTrafficSpec(detail.traffic, r.endedAt ?? now)) : ''}${
    detail.health.length
      ? chart('canary-health', canaryHealthSpec(detail.health))
      : h`<p class="note">No health comparison recorded yet.</p>`
  }</div>
<h2>Events</h2>
<table id="rollout-events"><thead><tr><th>#</th><th>at</th><th>event</th><th>share</th><th>by</th><th>reason</th></tr></thead><tbody>${detail.events.map(
    (e) =>
      h`<tr><td class="num">${e.seq}</td><td>${formatDate(e.at)}</td><td>${e.kind}</td><td class="num">${e.percent === null ? '' : `${e.percent} %${e.shadow ? ' shadow' : ''}`}</td><td>${e.actor}</td><td>${e.reason}</td></tr>`,
  )}</tbody></table>`;
  return layout({
    title: `Rollout of ${r.modelName} v${r.candidateVersion}`,
    section: 'rollouts',
    temporal: { href: temporalWorkflowUrl(links, r.workflowId, r.runId), label: 'This rollout' },
    body,
    refreshSeconds: running ? 15 : undefined,
  });
}
