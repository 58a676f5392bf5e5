/**
 * The Runs tab of the Version history: the runs of the notebook's published versions, newest
 * first, a page at a time, two or three lines each (one more when it failed), with Open on the row, the
 * other actions in its ⋯ menu (and right-click menu), links to Airflow, and a checkbox to
 * choose two runs to compare.
 *
 * A view only: what it shows comes from RunsModel (runs-model.ts), what it does goes through
 * the run commands (run-commands.ts).
 */
import { CommandRegistry } from '@lumino/commands';
import * as React from 'react';

import { IRun } from './api';
import { COMPARE_CHOSEN_RUNS, IRunArgs, RUN_COMMANDS, RUN_ROW_CLASS } from './run-commands';
import { describeEmpty } from './messages';
import { HistoryModel } from './model';
import { statusLabel } from './runs-model';
import { OpenRowMenu, PagedRows, RowButtons, openOnDoubleClick } from './side-panel';

interface IRunListProps {
  model: HistoryModel;
  commands: CommandRegistry;
  openMenu: OpenRowMenu<IRunArgs>;
}

/** A link to Airflow, opened in a new browser tab. */
function AirflowLink(props: { href: string | null; title: string; children: string }): JSX.Element | null {
  return props.href === null ? null : (
    <a
      className="jp-bookstore-Run-link"
      href={props.href}
      target="_blank"
      rel="noopener noreferrer"
      title={props.title}
    >
      {props.children}
    </a>
  );
}

function RunRow(props: IRunListProps & { run: IRun }): JSX.Element {
  const { model, commands, openMenu, run } = props;
  const runs = model.runs;
  const row = runs.row(run);
  const args: IRunArgs = { runId: run.run_id };
  const canOpen = runs.isEnabled('open', run.run_id);
  const open = () => void commands.execute(RUN_COMMANDS.open, args);
  const when = `${row.date} ${row.clock}`;
  return (
    <li
      className={`${RUN_ROW_CLASS} jp-mod-${row.status}${row.selected ? ' jp-mod-selected' : ''}`}
      data-run-id={run.run_id}
      data-status={row.status}
      onDoubleClick={openOnDoubleClick(canOpen, open)}
    >
      <div className="jp-bookstore-Version-main">
        <input
          type="checkbox"
          className="jp-bookstore-Run-choose"
          checked={row.selected}
          disabled={!row.hasOutput && !row.selected}
          aria-label={`Choose the run of ${when} to compare`}
          title={
            row.hasOutput
              ? 'Choose this run, and another, to compare their executed notebooks'
              : 'This run has no executed notebook to compare'
          }
          onChange={() => runs.toggleSelected(run.run_id)}
        />
        <span className="jp-bookstore-Version-time" title={row.timeTitle}>
          <span className="jp-bookstore-Version-date">{row.date}</span>
          <span className="jp-bookstore-Version-clock">{row.clock}</span>
        </span>
        <RowButtons
          canOpen={canOpen}
          openLabel={`Open the notebook the run of ${when} executed`}
          openTitle={
            row.hasOutput
              ? 'Open the executed notebook read-only in a new tab'
              : 'The executed notebook is not stored (yet)'
          }
          onOpen={open}
          moreLabel="More actions"
          moreTitle="Compare with the previous run, open in Airflow, copy the run id"
          openMenu={openMenu}
          args={args}
        />
      </div>
      <div className="jp-bookstore-Version-meta">
        <span className={`jp-bookstore-Run-status jp-mod-${row.status}`}>{statusLabel(row.status)}</span>
        {row.duration !== null && <span title={row.timeTitle}>in {row.duration}</span>}
        {row.version !== null && (
          <span title={`Published version ${row.version.versionId}`}>
            version <code className="jp-bookstore-Version-id">{row.version.id}</code>
          </span>
        )}
        <code className="jp-bookstore-Run-parameters" title={row.parametersTitle}>
          {row.parameters || 'no parameters'}
        </code>
        <span className="jp-bookstore-Run-origin">{row.origin}</span>
        <AirflowLink href={row.airflowUrl} title="The Airflow task that ran it: logs, DAG run">
          Open in Airflow
        </AirflowLink>
        <AirflowLink href={row.viewerUrl} title="The executed notebook in Airflow's viewer">
          View in Airflow
        </AirflowLink>
      </div>
      {row.error !== null && (
        <div className="jp-bookstore-Run-error" title={row.error}>
          {row.error}
        </div>
      )}
    </li>
  );
}

/** Above the runs: the two chosen, and the button comparing them. */
function ChosenRuns(props: IRunListProps): JSX.Element | null {
  const { model, commands } = props;
  const runs = model.runs;
  if (!model.canCompare || runs.runs.length < 2) {
    return null;
  }
  const count = runs.selected.length;
  return (
    <div className="jp-bookstore-Runs-compare">
      <span className="jp-bookstore-Runs-chosen" aria-live="polite">
        {count === 2
          ? '2 runs chosen'
          : count === 1
            ? '1 run chosen: choose another'
            : 'Choose two runs to compare'}
      </span>
      <button
        className="jp-bookstore-Action"
        disabled={!runs.canCompareSelected}
        title="Compare the executed notebooks of the two runs chosen: the earlier one's on the left"
        onClick={() => void commands.execute(COMPARE_CHOSEN_RUNS)}
      >
        Compare
      </button>
    </div>
  );
}

/** The Runs tab. */
export function RunList(props: IRunListProps): JSX.Element {
  const list = props.model.runs.list;
  return (
    <>
      <ChosenRuns {...props} />
      <PagedRows
        state={list.state}
        empty={describeEmpty('runs')}
        className="jp-bookstore-RunList"
        tab="runs"
        listClassName="jp-bookstore-Versions jp-bookstore-Runs"
        onLoadMore={() => void list.loadMore()}
      >
        {list.state.items.map(run => (
          <RunRow key={run.run_id} {...props} run={run} />
        ))}
      </PagedRows>
    </>
  );
}
