/**
 * The Schedules tab of the Version history: the notebook's schedules, three lines each (its
 * name; when it runs, in words; its next run, its last run's status, its version and
 * parameters), with Run now on the row and Edit, Disable (Enable), Delete and Copy DAG id in its
 * ⋯ menu (and right-click menu); and New schedule… above them.
 *
 * A view only: what it shows comes from SchedulesModel (schedules-model.ts), what it does goes
 * through the schedule commands (schedule-commands.ts).
 */
import { CommandRegistry } from '@lumino/commands';
import * as React from 'react';

import { ISchedule } from './api';
import { HistoryModel } from './model';
import {
  IScheduleArgs,
  SCHEDULE_COMMAND,
  SCHEDULE_COMMANDS,
  SCHEDULE_ROW_CLASS
} from './schedule-commands';
import { MoreButton, Notice, OpenRowMenu, PagedRows } from './side-panel';

interface IScheduleListProps {
  model: HistoryModel;
  commands: CommandRegistry;
  openMenu: OpenRowMenu<IScheduleArgs>;
}

function ScheduleRow(props: IScheduleListProps & { schedule: ISchedule }): JSX.Element {
  const { model, commands, openMenu, schedule } = props;
  const schedules = model.schedules;
  const row = schedules.row(schedule);
  const args: IScheduleArgs = { name: schedule.name };
  return (
    <li
      className={`${SCHEDULE_ROW_CLASS}${row.enabled ? '' : ' jp-mod-disabled'}`}
      data-name={schedule.name}
      data-dag-id={schedule.dag_id}
    >
      <div className="jp-bookstore-Version-main">
        <span className="jp-bookstore-Schedule-name" title={`Schedule ${row.name}, DAG ${row.dagId}`}>
          {row.name}
        </span>
        <button
          className="jp-bookstore-Action"
          disabled={!schedules.isEnabled('runNow', schedule.name)}
          aria-label={`Run ${schedule.name} now`}
          title="Ask Airflow to run the notebook now, with this schedule's version and parameters"
          onClick={() => void commands.execute(SCHEDULE_COMMANDS.runNow, args)}
        >
          Run now
        </button>
        <MoreButton
          label="More actions"
          title="Edit, disable or enable, delete, or copy the DAG id of this schedule"
          onOpen={(x, y) => openMenu(args, x, y)}
        />
      </div>
      <div className="jp-bookstore-Schedule-description" title={row.description}>
        {row.description}
      </div>
      <div className="jp-bookstore-Version-meta">
        <span className="jp-bookstore-Schedule-next" title={row.nextTitle}>
          {row.next}
        </span>
        {row.last === null ? (
          <span className="jp-bookstore-Schedule-last" title="No run of this schedule is listed in the Runs tab">
            no run yet
          </span>
        ) : (
          <span
            className={`jp-bookstore-Run-status jp-bookstore-Schedule-last jp-mod-${row.last.status}`}
            title={row.last.title}
          >
            {row.last.label}
          </span>
        )}
        <span>{row.version}</span>
        <code className="jp-bookstore-Run-parameters" title={row.parameters || 'No parameters: the defaults'}>
          {row.parameters || 'no parameters'}
        </code>
      </div>
    </li>
  );
}

/** The Schedules tab. */
export function ScheduleList(props: IScheduleListProps): JSX.Element {
  const { model, commands } = props;
  const state = model.schedules.state;
  return (
    <>
      <div className="jp-bookstore-Schedules-new">
        <button
          className="jp-bookstore-Action"
          title="Run the published notebook on Airflow on a schedule"
          disabled={!commands.isEnabled(SCHEDULE_COMMAND)}
          onClick={() => void commands.execute(SCHEDULE_COMMAND)}
        >
          New schedule…
        </button>
      </div>
      {state.broken.map(broken => (
        <Notice
          key={broken.key}
          notice={{ level: 'warning', text: `${broken.key} is not a schedule Airflow can run: ${broken.error}` }}
        />
      ))}
      <PagedRows
        state={{ ...state, emptyMessage: state.loaded && !state.schedules.length && !state.error ? '' : null }}
        empty={
          'No schedules yet: use Schedule… in the notebook toolbar (or New schedule… here) to run the ' +
          'published notebook on Airflow hourly, daily, weekly or at each publication.'
        }
        className="jp-bookstore-ScheduleList"
        tab="schedules"
        listClassName="jp-bookstore-Versions jp-bookstore-Schedules"
        onLoadMore={() => undefined}
      >
        {state.schedules.map(schedule => (
          <ScheduleRow key={schedule.name} {...props} schedule={schedule} />
        ))}
      </PagedRows>
    </>
  );
}
