/**
 * The Version history side panel: the archive's health, then the open notebook's workspace
 * and published versions, a page at a time, one or two lines each as in the file browser,
 * with Open on the row and the other actions in its ⋯ menu (and right-click menu).
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
import { HistoryModel } from './model';
import { LoadMore, MoreButton, Notice, OpenRowMenu, PanelHeader, SidePanel } from './side-panel';

const STAGE_LABELS: Record<Stage, string> = { workspace: 'Saves', published: 'Published' };

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
  const open = () => void commands.execute(VERSION_COMMANDS.open, args);
  return (
    <li
      className={`${VERSION_ROW_CLASS}${row.highlighted ? ' jp-mod-highlighted' : ''}`}
      data-version-id={version.version_id ?? ''}
      data-stage={stage}
      // As in the file browser, a double click opens.
      onDoubleClick={event => {
        const onButton = (event.target as HTMLElement).closest('button') !== null;
        if (!onButton && model.isEnabled('open', stage, version.version_id)) {
          open();
        }
      }}
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
        <button
          className="jp-bookstore-Action"
          disabled={!model.isEnabled('open', stage, version.version_id)}
          title="Open this version read-only in a new tab"
          onClick={open}
        >
          Open
        </button>
        <MoreButton
          label="More actions"
          title="Compare, restore, publish or copy the id of this version"
          onOpen={(x, y) => openMenu(args, x, y)}
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
  const state = history.state;
  return (
    <div className="jp-bookstore-VersionList" data-stage={stage}>
      {state.error !== null && state.error !== undefined && (
        <Notice notice={{ level: 'error', text: describeError(state.error) }} />
      )}
      {state.emptyMessage !== null && (
        <div className="jp-bookstore-Empty" title={state.emptyMessage}>
          {describeEmpty(stage)}
        </div>
      )}
      <ul className="jp-bookstore-Versions">
        {state.items.map(version => (
          <VersionRow key={version.version_id ?? 'null'} {...props} version={version} />
        ))}
      </ul>
      <LoadMore
        loading={state.loading}
        more={state.nextCursor !== null}
        onLoadMore={() => void history.loadMore()}
      />
    </div>
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

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    void this.model.refresh();
    // The archive's health changes while the panel is open: S3 fails, saves queue up.
    this._poll = window.setInterval(() => void this.model.refreshStatus(), 15000);
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
          <div className="jp-bookstore-Empty">Open a notebook to see its saved and published versions.</div>
        ) : (
          <>
            <div className="jp-bookstore-History-path" title={path}>
              {path}
            </div>
            <div className="jp-bookstore-Tabs" role="tablist">
              {(['workspace', 'published'] as Stage[]).map(stage => (
                <button
                  key={stage}
                  role="tab"
                  aria-selected={model.stage === stage}
                  className={`jp-bookstore-Tab${model.stage === stage ? ' jp-mod-active' : ''}`}
                  data-stage={stage}
                  onClick={() => (model.stage = stage)}
                >
                  {STAGE_LABELS[stage]}
                </button>
              ))}
            </div>
            {model.busy !== null && <div className="jp-bookstore-Loading">{model.busy}</div>}
            {model.notice !== null && <Notice notice={model.notice} testId="outcome" />}
            <VersionList model={model} commands={this.commands} openMenu={this.openMenu} stage={model.stage} />
          </>
        )}
      </div>
    );
  }

  private _poll = 0;
}
