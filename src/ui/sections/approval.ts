import { type ApprovalRow, describeEvaluation } from '../../registry/approvals';
import type { ApprovalEvaluation } from '../../shared/approval';
import { formatDate, formatNumber } from '../html/format';
import { h, type Html } from '../html/template';
import { paths } from '../links';
import { scalarMetrics } from './run-evaluation';

/** Whether the panel offers the buttons, and whether an admin key must come with them. */
export interface ApprovalAccess {
  enabled: boolean;
  keyRequired: boolean;
  reason?: string;
}

/** The evaluation an approver looks at: the candidate against production on the same test split, and the gate. */
function approvalEvaluationTable(evaluation: ApprovalEvaluation): Html {
  const candidate = scalarMetrics(evaluation.metrics);
  const production = scalarMetrics(evaluation.production?.metrics);
  return h`<p><strong>${describeEvaluation(evaluation)}</strong></p>
<p>Gate: <span class="status ${evaluation.gate.passed ? 'passed' : 'rejected'}">${evaluation.gate.passed ? 'passed' : 'rejected'}</span> ${evaluation.gate.reasons.join('; ')}</p>
<table class="approval-metrics"><thead><tr><th>metric</th><th>candidate</th>${evaluation.production ? h`<th>production v${evaluation.production.version}</th><th>change</th>` : ''}</tr></thead><tbody>${Object.keys(
    candidate,
  ).map(
    (name) =>
      h`<tr><td>${name}</td><td class="num">${formatNumber(candidate[name])}</td>${
        evaluation.production
          ? h`<td class="num">${formatNumber(production[name])}</td><td class="num">${production[name] === undefined ? '–' : formatNumber(candidate[name] - production[name])}</td>`
          : ''
      }</tr>`,
  )}</tbody></table>`;
}

/**
 * A pipeline run's approval: pending (with the evaluation against production and the approve and
 * reject buttons) or decided (who, when, why, through which channel).
 */
export function approvalPanel(row: ApprovalRow, access: ApprovalAccess): Html {
  const evaluation = row.evaluation as ApprovalEvaluation;
  const action = (decision: string) => `/actions/approvals/${encodeURIComponent(row.id)}/${decision}`;
  const pending = row.status === 'pending';
  return h`<section class="panel approval" id="approval">
  <h2>${pending ? 'Awaiting approval' : `Approval: ${row.status}`} — ${row.modelName} v${row.version}</h2>
  <p class="muted">Requested ${formatDate(row.requestedAt)}; ${pending ? `on no decision by ${formatDate(row.deadline)} it is ${row.onTimeout === 'approve' ? 'approved' : 'rejected'}` : ''}${
    row.decidedAt
      ? `decided ${formatDate(row.decidedAt)} by ${row.decidedBy} (${row.channel}${row.authenticated ? ', with an admin key' : ''})${row.reason ? `: ${row.reason}` : ''}`
      : ''
  }</p>
  ${approvalEvaluationTable(evaluation)}
  ${
    pending
      ? access.enabled
        ? h`${access.keyRequired ? h`<p><label>Admin key <input type="password" id="admin-key" autocomplete="off" size="28"></label></p>` : ''}
<p><label>approver <input id="approver" name="approver" value="user:dashboard" size="24"></label> <label>reason <input id="action-reason" size="40"></label></p>
<form class="inline" method="post" action="${action('approve')}" data-action="approve"><button type="submit" class="primary" id="approve-button">Approve and deploy</button></form>
<form class="inline" method="post" action="${action('reject')}" data-action="reject"><button type="submit" class="danger" id="reject-button">Reject</button></form>
<p id="action-result" class="action-result"></p>`
        : h`<p class="note">Actions are off: ${access.reason ?? 'read-only'}. Decide with <code>keel approvals approve|reject</code>.</p>`
      : ''
  }
</section>`;
}

/** Pending approvals across models, each linking to its run. */
export function pendingApprovalsList(rows: ApprovalRow[]): Html {
  if (!rows.length) return h``;
  return h`<section class="panel" id="pending-approvals"><h2>Awaiting approval</h2><ul>${rows.map(
    (r) =>
      h`<li><a href="${paths.run(r.id)}">${r.modelName} v${r.version}</a>: ${describeEvaluation(r.evaluation as ApprovalEvaluation)}; decide by ${formatDate(r.deadline)}</li>`,
  )}</ul></section>`;
}
