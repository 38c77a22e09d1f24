/** The pages' style sheet (served as /assets/keel-ui.css; a report inlines it). */
export const styleSheet = `
:root { --fg: #1d232a; --muted: #5f6b76; --line: #dfe3e8; --accent: #2f6fb0; --bad: #c0392b; --good: #2e7d32; --warn: #b7791f; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: #f6f7f9; }
header.top { display: flex; align-items: center; gap: 24px; padding: 10px 24px; background: #17212b; color: #fff; }
header.top a { color: #cfe2f7; text-decoration: none; }
header.top a.active { color: #fff; font-weight: 600; border-bottom: 2px solid #fff; }
header.top .brand { font-weight: 700; color: #fff; font-size: 16px; }
header.top nav { display: flex; gap: 18px; }
header.top .temporal { margin-left: auto; }
main { padding: 18px 24px 48px; max-width: 1400px; }
h1 { font-size: 22px; margin: 4px 0 12px; }
h2 { font-size: 17px; margin: 26px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 14px; margin: 14px 0 6px; }
a { color: var(--accent); }
.muted { color: var(--muted); }
table { border-collapse: collapse; background: #fff; margin: 6px 0 12px; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #eef1f4; font-weight: 600; }
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th[data-sorted=desc]::after { content: " ▼"; }
table.sortable th[data-sorted=asc]::after { content: " ▲"; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12.5px; }
.charts { display: flex; flex-wrap: wrap; gap: 14px; align-items: flex-start; }
figure.chart-box { margin: 0; background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 8px; }
figure.chart-box figcaption { color: var(--muted); font-size: 12px; max-width: 420px; }
.status { display: inline-block; padding: 0 7px; border-radius: 10px; font-size: 12px; font-weight: 600; background: #e3e7eb; }
.status.succeeded, .status.ok, .status.promoted, .status.passed, .status.delivered { background: #d7efd9; color: var(--good); }
.status.failed, .status.drift, .status.rolled_back, .status.rejected, .status.critical { background: #f8d9d5; color: var(--bad); }
.status.running, .status.warning, .status.insufficient_data { background: #fdecc8; color: var(--warn); }
.failure { background: #fff4f2; border: 1px solid #f1c0b8; border-radius: 6px; padding: 8px 12px; margin: 8px 0; }
.failure .cause { font-family: ui-monospace, monospace; font-size: 12.5px; white-space: pre-wrap; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 3px 16px; background: #fff; border: 1px solid var(--line); padding: 10px 14px; border-radius: 6px; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
form.inline { display: inline-flex; gap: 6px; align-items: center; margin: 4px 10px 4px 0; }
form.filters { display: flex; gap: 10px; align-items: end; flex-wrap: wrap; margin: 8px 0; }
button { padding: 4px 12px; border: 1px solid #9aa7b4; border-radius: 4px; background: #fff; cursor: pointer; }
button.danger { border-color: var(--bad); color: var(--bad); }
button.primary { border-color: var(--accent); background: var(--accent); color: #fff; }
.action-result.ok { color: var(--good); }
.action-result.error { color: var(--bad); }
.panel { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; margin: 10px 0; }
.note { color: var(--muted); font-style: italic; }
.pager { margin: 8px 0; display: flex; gap: 14px; }
`;
