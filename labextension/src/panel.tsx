/**
 * The Version history side panel: the archive's health, then the open notebook's workspace
 * and published versions, or the runs of its published versions (runs-panel.tsx), a page at a
 * time, one or two lines each as in the file browser, with Open on the row and the other
 * actions in its ⋯ menu (and right-click menu).
 *
 * A view only: what it shows comes from HistoryModel (model.ts), what it does goes through
 * the version commands (commands.ts).
 */
import { CommandRegistry } from '@lumino/commands';
import { Message } from '@lumino/messaging';
import * as React from 'react';

import { IVersion, Stage } from './api';
import { IVersionArgs, ROW_MENU, VERSION_COMMANDS, VERSION_ROW_CLASS } from './commands';
import { historyIcon } from './icons';
import { openGroupedMenu } from './menus';
import { describeEmpty, describeError, describeHealth } from './messages';
import { IRunArgs, RUN_COMMANDS, RUN_MENU } from './run-commands';
import { HistoryModel, HistoryTab } from './model';
import { RunList } from './runs-panel';
import { IScheduleArgs, SCHEDULE_COMMANDS, SCHEDULE_MENU } from './schedule-commands';
import { ScheduleList } from './schedules-panel';
import {
  Notice,
  OpenRowMenu,
  PagedRows,
  PanelHeader,
  RowButtons,
  SidePanel,
  openOnDoubleClick
} from './side-panel';

const TAB_LABELS: Record<HistoryTab, string> = {
  workspace: 'Saves',
  published: 'Published',
  runs: 'Runs',
  schedules: 'Schedules'
};

const TAB_TITLES: Record<HistoryTab, string> = {
  workspace: 'Every save of this notebook, archived',
  published: 'The published versions of this notebook: what Airflow runs',
  runs: 'The runs of the published versions, from Airflow or bookstore run',
  schedules: 'When Airflow runs the published notebook: its schedules, their next and last runs, Run now'
};

/** Opens a version's ⋯ menu at a point of the page. */
type OpenMenu = OpenRowMenu<IVersionArgs>;

function VersionRow(props: {
  model: HistoryModel;
  commands: CommandRegistry;
  openMenu: OpenMenu;
  stage: Stage;
  version: IVersion;
}): JSX.Element {
  const { model, commands, openMenu, stage, version } = props;
  const row = model.row(stage, version);
  const { source } = row;
  const args: IVersionArgs = { stage, versionId: version.version_id ?? '' };
  const canOpen = model.isEnabled('open', stage, version.version_id);
  const open = () => void commands.execute(VERSION_COMMANDS.open, args);
  return (
    <li
      className={`${VERSION_ROW_CLASS}${row.highlighted ? ' jp-mod-highlighted' : ''}`}
      data-version-id={version.version_id ?? ''}
      data-stage={stage}
      onDoubleClick={openOnDoubleClick(canOpen, open)}
      ref={node => {
        if (node && model.takeScroll(version.version_id)) {
          node.scrollIntoView({ block: 'nearest' });
        }
      }}
    >
      <div className="jp-bookstore-Version-main">
        <span className="jp-bookstore-Version-time" title={`${row.timeTitle}\n${row.age}`}>
          <span className="jp-bookstore-Version-date">{row.date}</span>
          <span className="jp-bookstore-Version-clock">{row.clock}</span>
        </span>
        <RowButtons
          canOpen={canOpen}
          openTitle="Open this version read-only in a new tab"
          onOpen={open}
          moreLabel="More actions"
          moreTitle="Compare, restore, publish or copy the id of this version"
          openMenu={openMenu}
          args={args}
        />
      </div>
      <div className="jp-bookstore-Version-meta">
        {row.latest !== null && (
          <span className="jp-bookstore-Badge" title={row.latest}>
            latest
          </span>
        )}
        <code className="jp-bookstore-Version-id" title={version.version_id ?? ''}>
          {row.id}
        </code>
        <span>{row.size}</span>
        {row.uploaded !== null && (
          <span className="jp-bookstore-Version-uploaded" title={row.timeTitle}>
            {row.uploaded}
          </span>
        )}
        {source !== null && (
          <span className="jp-bookstore-Version-from">
            from{' '}
            <button
              className="jp-bookstore-Version-source"
              title={`Published from save ${source.versionId}: show it in Saves`}
              onClick={() => void model.showSource(source.versionId)}
            >
              save {source.id}
            </button>
          </span>
        )}
      </div>
    </li>
  );
}

function VersionList(props: {
  model: HistoryModel;
  commands: CommandRegistry;
  openMenu: OpenMenu;
  stage: Stage;
}): JSX.Element {
  const { model, stage } = props;
  const history = model.histories[stage];
  return (
    <PagedRows
      state={history.state}
      empty={describeEmpty(stage)}
      className="jp-bookstore-VersionList"
      tab={stage}
      listClassName="jp-bookstore-Versions"
      onLoadMore={() => void history.loadMore()}
    >
      {history.state.items.map(version => (
        <VersionRow key={version.version_id ?? 'null'} {...props} version={version} />
      ))}
    </PagedRows>
  );
}

function Health(props: { model: HistoryModel }): JSX.Element | null {
  const { model } = props;
  if (model.statusError) {
    return <Notice notice={{ level: 'error', text: describeError(model.statusError) }} testId="health" />;
  }
  if (!model.status) {
    return null;
  }
  return (
    <div className="jp-bookstore-Health" data-testid="health">
      {describeHealth(model.status).map((notice, index) => (
        <Notice key={index} notice={notice} />
      ))}
    </div>
  );
}

/** The side panel. */
export class HistoryPanel extends SidePanel<HistoryModel> {
  constructor(model: HistoryModel, commands: CommandRegistry) {
    super(model, commands, {
      id: 'jp-bookstore-history',
      className: 'jp-bookstore-HistoryPanel',
      icon: historyIcon,
      caption: 'Version history',
      menuClass: 'jp-bookstore-VersionMenu'
    });
  }

  /** The ⋯ menu of the version `args` names. */
  private readonly openMenu: OpenMenu = (args, x, y) =>
    openGroupedMenu(this.menu, ROW_MENU, VERSION_COMMANDS, args, x, y);

  /** The ⋯ menu of the run `args` names. */
  private readonly openRunMenu: OpenRowMenu<IRunArgs> = (args, x, y) =>
    openGroupedMenu(this.menu, RUN_MENU, RUN_COMMANDS, args, x, y);

  /** The ⋯ menu of the schedule `args` names. */
  private readonly openScheduleMenu: OpenRowMenu<IScheduleArgs> = (args, x, y) =>
    openGroupedMenu(this.menu, SCHEDULE_MENU, SCHEDULE_COMMANDS, args, x, y);

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    void this.model.refresh();
    // The archive's health changes while the panel is open (the bucket fails, saves queue up), and
    // runs start and end.
    this._poll = window.setInterval(() => {
      void this.model.refreshStatus();
      void this.model.pollRuns();
    }, 15000);
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    window.clearInterval(this._poll);
  }

  dispose(): void {
    window.clearInterval(this._poll);
    super.dispose();
  }

  protected render(): JSX.Element {
    const model = this.model;
    const path = model.path;
    return (
      <div className="jp-bookstore-History">
        <PanelHeader
          title="Version history"
          refreshTitle="Reload the versions and the archive's health"
          onRefresh={() => void model.refresh()}
        />
        <Health model={model} />
        {path === null ? (
          <div className="jp-bookstore-Empty">
            Open a notebook to see its saved and published versions, its runs and its schedules.
          </div>
        ) : (
          <>
            <div className="jp-bookstore-History-path" title={path}>
              {path}
            </div>
            <div className="jp-bookstore-Tabs" role="tablist" aria-label="Versions, runs and schedules">
              {model.tabs.map(tab => (
                <button
                  key={tab}
                  role="tab"
                  aria-selected={model.tab === tab}
                  className={`jp-bookstore-Tab${model.tab === tab ? ' jp-mod-active' : ''}`}
                  data-stage={tab}
                  title={TAB_TITLES[tab]}
                  onClick={() => (model.tab = tab)}
                >
                  {TAB_LABELS[tab]}
                </button>
              ))}
            </div>
            {model.busy !== null && <div className="jp-bookstore-Loading">{model.busy}</div>}
            {model.notice !== null && <Notice notice={model.notice} testId="outcome" />}
            {model.tab === 'runs' ? (
              <RunList model={model} commands={this.commands} openMenu={this.openRunMenu} />
            ) : model.tab === 'schedules' ? (
              <ScheduleList model={model} commands={this.commands} openMenu={this.openScheduleMenu} />
            ) : (
              <VersionList model={model} commands={this.commands} openMenu={this.openMenu} stage={model.tab} />
            )}
          </>
        )}
      </div>
    );
  }

  private _poll = 0;
}
