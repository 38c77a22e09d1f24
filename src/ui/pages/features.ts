import type { RegisteredView } from '../../features/view-store';
import type { ViewFreshness } from '../../features/freshness';
import { h, type Html } from '../html/template';
import { layout } from './layout';

const age = (ms: number | null) =>
  ms === null ? 'never materialised' : ms < 172_800_000 ? `${(ms / 3_600_000).toFixed(1)} h` : `${(ms / 86_400_000).toFixed(1)} d`;

/** Feature views with their version, features and freshness (now minus the newest materialised event). */
export function featuresPage(views: { view: RegisteredView; freshness: ViewFreshness | undefined }[]): Html {
  const body = views.length
    ? h`<table class="sortable" id="feature-views"><thead><tr><th>view</th><th>version</th><th>entities (join keys)</th><th>features</th><th>lag</th><th>materialised as of</th><th>staleness</th></tr></thead><tbody>${views.map(
        ({ view, freshness }) =>
          h`<tr class="${freshness?.stale ? 'bad' : ''}"><td>${view.name}</td><td><code>${view.version.slice(0, 12)}</code></td><td>${view.view.entities.join(', ')} (${view.joinKeys.join(', ')})</td><td>${view.view.features.map(
            (f) =>
              h`<div><code>${f.name}</code> <span class="muted">${f.aggregation ? `${f.aggregation}(${f.column ?? '*'}) over ${f.window}` : f.column}</span></div>`,
          )}</td><td>${view.view.availabilityLag}</td><td>${freshness?.lastAsOf ?? '—'}</td><td data-value="${String(freshness?.stalenessMs ?? '')}">${age(freshness?.stalenessMs ?? null)}${freshness?.stale ? h` <strong>stale</strong>` : ''}</td></tr>`,
      )}</tbody></table>`
    : h`<p class="note">No feature views yet: <code>keel features apply</code> registers keel.config.json's featureStore.</p>`;
  return layout({ title: 'Feature views', section: 'features', body });
}
