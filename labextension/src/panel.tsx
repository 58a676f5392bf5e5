/**
 * The Version history side panel: the archive's health, then the open notebook's workspace
 * and published versions, a page at a time, with what can be done to each.
 */
import { VDomModel, VDomRenderer } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import * as React from 'react';

import { BookstoreClient, IStatus, IVersion, Stage } from './api';
import { waitUntilArchived } from './archive';
import { baseName, formatAge, formatSize, formatTime, shortId } from './format';
import { VersionHistory } from './history';
import { historyIcon } from './icons';
import { INotice, describeError, describeHealth } from './messages';

/** What the panel asks the extension to do with a version. */
export interface IVersionActions {
  open(path: string, stage: Stage, version: IVersion): Promise<void>;
  restoreCopy(path: string, stage: Stage, version: IVersion): Promise<string | null>;
  restoreOverwrite(path: string, stage: Stage, version: IVersion): Promise<string | null>;
  publishVersion(path: string, version: IVersion): Promise<string | null>;
  /** Compare the version with the saved notebook or another version (asks which). */
  compare(path: string, stage: Stage, version: IVersion): Promise<string | null>;
}

const STAGE_LABELS: Record<Stage, string> = { workspace: 'Saves', published: 'Published' };

/** The state the panel renders: which notebook, its two histories, health and the last outcome. */
export class HistoryModel extends VDomModel {
  constructor(readonly client: BookstoreClient) {
    super();
    const changed = () => this.stateChanged.emit(void 0);
    this.histories = {
      workspace: new VersionHistory(client, 'workspace', changed),
      published: new VersionHistory(client, 'published', changed)
    };
  }

  readonly histories: Record<Stage, VersionHistory>;

  get path(): string | null {
    return this._path;
  }

  get stage(): Stage {
    return this._stage;
  }

  set stage(stage: Stage) {
    if (stage === this._stage) {
      return;
    }
    this._stage = stage;
    const history = this.histories[stage];
    if (this._visible && this._path !== null && !history.state.loaded && !history.state.loading) {
      void history.reload();
    }
    this.stateChanged.emit(void 0);
  }

  get status(): IStatus | null {
    return this._status;
  }

  get statusError(): unknown {
    return this._statusError;
  }

  /** The outcome of the last action (restored, published, failed), shown until the next one. */
  get notice(): INotice | null {
    return this._notice;
  }

  set notice(notice: INotice | null) {
    this._notice = notice;
    this.stateChanged.emit(void 0);
  }

  get busy(): string | null {
    return this._busy;
  }

  /** The version id to point out in the list (the save a publication came from). */
  get highlighted(): string | null {
    return this._highlighted;
  }

  /** True once for the version just pointed out: the list scrolls to it, then leaves scrolling to you. */
  takeScroll(versionId: string | null): boolean {
    if (versionId === null || versionId !== this._scrollTo) {
      return false;
    }
    this._scrollTo = null;
    return true;
  }

  /** Show the save that a published version was published from. */
  async showSource(sourceVersionId: string): Promise<void> {
    this._highlighted = sourceVersionId;
    this._scrollTo = sourceVersionId;
    const history = this.histories.workspace;
    // Started before switching tabs, so that the switch does not list the saves a second time.
    const loading = history.state.loaded ? Promise.resolve() : history.reload();
    this.stage = 'workspace';
    await loading;
    if (this._highlighted !== sourceVersionId) {
      return;
    }
    const listed = history.state.versions.some(version => version.version_id === sourceVersionId);
    this._notice =
      listed || history.state.error
        ? null
        : {
            level: 'info',
            text:
              `Save ${shortId(sourceVersionId)} is older than the saves listed: ` +
              'use Load more to reach it.'
          };
    this.stateChanged.emit(void 0);
  }

  /**
   * Whether the panel is shown: a hidden panel asks S3 for nothing (switching notebooks
   * would otherwise list versions each time); showing it refreshes.
   */
  get visible(): boolean {
    return this._visible;
  }

  set visible(visible: boolean) {
    this._visible = visible;
  }

  /** Show the versions of the notebook at `path` (a path on the Jupyter server), or none. */
  setPath(path: string | null): void {
    if (path === this._path) {
      return;
    }
    this._path = path;
    this._notice = null;
    this._highlighted = null;
    for (const history of Object.values(this.histories)) {
      history.setPath(path);
    }
    this.stateChanged.emit(void 0);
    if (path !== null && this._visible) {
      void this.histories[this._stage].reload();
    }
  }

  /** Reload the health and both stages' first pages. */
  async refresh(): Promise<void> {
    await Promise.all([
      this.refreshStatus(),
      this.histories.workspace.reload(),
      this.histories.published.reload()
    ]);
  }

  async refreshStatus(): Promise<void> {
    try {
      this._status = await this.client.status();
      this._statusError = null;
    } catch (error) {
      this._statusError = error;
    }
    this.stateChanged.emit(void 0);
  }

  /** After a save: wait (bounded) for it to reach the bucket, then list the saves again. */
  async refreshAfterSave(): Promise<void> {
    if (!this._visible) {
      // Listed afresh when the panel is shown.
      return;
    }
    try {
      this._status = await waitUntilArchived(this.client);
      this._statusError = null;
    } catch (error) {
      this._statusError = error;
    }
    this.stateChanged.emit(void 0);
    await this.histories.workspace.reload();
  }

  /** Run an action on a version, showing that it is busy and then its outcome. */
  async run(label: string, action: () => Promise<string | null>): Promise<void> {
    if (this._busy !== null) {
      return;
    }
    this._busy = label;
    this._notice = null;
    this.stateChanged.emit(void 0);
    try {
      const outcome = await action();
      this._notice = outcome ? { level: 'ok', text: outcome } : null;
    } catch (error) {
      this._notice = { level: 'error', text: describeError(error) };
    } finally {
      this._busy = null;
      this.stateChanged.emit(void 0);
    }
  }

  private _path: string | null = null;
  private _visible = false;
  private _stage: Stage = 'workspace';
  private _status: IStatus | null = null;
  private _statusError: unknown = null;
  private _notice: INotice | null = null;
  private _busy: string | null = null;
  private _highlighted: string | null = null;
  private _scrollTo: string | null = null;
}

function Notice(props: { notice: INotice; testId?: string }): JSX.Element {
  const { notice } = props;
  return (
    <div
      className={`jp-bookstore-Notice jp-bookstore-Notice-${notice.level}`}
      role={notice.level === 'error' ? 'alert' : 'status'}
      data-testid={props.testId}
    >
      {notice.text}
    </div>
  );
}

function VersionRow(props: {
  model: HistoryModel;
  actions: IVersionActions;
  stage: Stage;
  version: IVersion;
}): JSX.Element {
  const { model, actions, stage, version } = props;
  const path = model.path as string;
  const disabled = model.busy !== null || version.version_id === null;
  // Comparing needs nbdime on the server; the status says whether it is there.
  const canCompare = model.status === null || model.status.features.includes('diff');
  const id = shortId(version.version_id);
  const when = formatTime(version.last_modified);
  const highlighted = version.version_id !== null && version.version_id === model.highlighted;
  const source = stage === 'published' ? version.source_version_id : undefined;
  return (
    <li
      className={`jp-bookstore-Version${highlighted ? ' jp-mod-highlighted' : ''}`}
      data-version-id={version.version_id ?? ''}
      ref={node => {
        if (node && model.takeScroll(version.version_id)) {
          node.scrollIntoView({ block: 'nearest' });
        }
      }}
    >
      <div className="jp-bookstore-Version-head">
        <span className="jp-bookstore-Version-time" title={version.last_modified}>
          {when}
        </span>
        {version.is_latest && (
          <span
            className="jp-bookstore-Badge"
            title={
              stage === 'published'
                ? 'The latest published version: what a DAG that does not pin a version runs'
                : 'The latest archived save'
            }
          >
            latest
          </span>
        )}
      </div>
      <div className="jp-bookstore-Version-meta">
        <span>{formatAge(version.last_modified)}</span>
        <span>{formatSize(version.size)}</span>
        <code title={version.version_id ?? ''}>{id}</code>
      </div>
      {source && (
        <div className="jp-bookstore-Version-from">
          from{' '}
          <button
            className="jp-bookstore-Version-source"
            title={`Published from save ${source}: show it in Saves`}
            onClick={() => void model.showSource(source)}
          >
            save {shortId(source, 8)}
          </button>
        </div>
      )}
      <div className="jp-bookstore-Version-actions">
        <button
          className="jp-bookstore-Action"
          disabled={disabled}
          title="Open this version read-only"
          onClick={() => void model.run(`Opening ${id}…`, async () => {
            await actions.open(path, stage, version);
            return null;
          })}
        >
          Open
        </button>
        {canCompare && (
          <button
            className="jp-bookstore-Action"
            disabled={disabled}
            title="Compare this version with the notebook as saved now, or with another version"
            onClick={() => void model.run(`Comparing ${id}…`, () => actions.compare(path, stage, version))}
          >
            Compare…
          </button>
        )}
        <button
          className="jp-bookstore-Action"
          disabled={disabled}
          title={`Restore this version as a new notebook beside ${baseName(path)}`}
          onClick={() => void model.run(`Restoring ${id}…`, () => actions.restoreCopy(path, stage, version))}
        >
          Restore as copy
        </button>
        <button
          className="jp-bookstore-Action jp-bookstore-Action-warn"
          disabled={disabled}
          title={`Replace ${baseName(path)} with this version (asks first)`}
          onClick={() =>
            void model.run(`Restoring ${id}…`, () => actions.restoreOverwrite(path, stage, version))
          }
        >
          Replace…
        </button>
        {stage === 'workspace' && (
          <button
            className="jp-bookstore-Action"
            disabled={disabled}
            title="Publish this saved version"
            onClick={() => void model.run(`Publishing ${id}…`, () => actions.publishVersion(path, version))}
          >
            Publish
          </button>
        )}
      </div>
    </li>
  );
}

function VersionList(props: { model: HistoryModel; actions: IVersionActions; stage: Stage }): JSX.Element {
  const { model, actions, stage } = props;
  const history = model.histories[stage];
  const state = history.state;
  return (
    <div className="jp-bookstore-VersionList" data-stage={stage}>
      {state.error !== null && state.error !== undefined && (
        <Notice notice={{ level: 'error', text: describeError(state.error) }} />
      )}
      {state.emptyMessage !== null && (
        <div className="jp-bookstore-Empty">
          {stage === 'published'
            ? 'Not published yet: use Publish in the notebook toolbar (or File ▸ Publish Notebook).'
            : 'No archived saves yet: save the notebook and its versions appear here.'}
          <div className="jp-bookstore-Empty-detail">{state.emptyMessage}</div>
        </div>
      )}
      <ul className="jp-bookstore-Versions">
        {state.versions.map(version => (
          <VersionRow
            key={version.version_id ?? 'null'}
            model={model}
            actions={actions}
            stage={stage}
            version={version}
          />
        ))}
      </ul>
      {state.loading && <div className="jp-bookstore-Loading">Loading…</div>}
      {!state.loading && state.nextCursor !== null && (
        <button className="jp-bookstore-LoadMore" onClick={() => void history.loadMore()}>
          Load more
        </button>
      )}
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
export class HistoryPanel extends VDomRenderer<HistoryModel> {
  constructor(
    model: HistoryModel,
    private readonly actions: IVersionActions
  ) {
    super(model);
    this.id = 'jp-bookstore-history';
    this.addClass('jp-bookstore-HistoryPanel');
    this.title.icon = historyIcon;
    this.title.caption = 'Version history';
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this.model.visible = true;
    void this.model.refresh();
    // The archive's health changes while the panel is open: S3 fails, saves queue up.
    this._poll = window.setInterval(() => void this.model.refreshStatus(), 15000);
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this.model.visible = false;
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
        <header className="jp-bookstore-History-header">
          <h2>Version history</h2>
          <button
            className="jp-bookstore-Refresh"
            title="Reload the versions and the archive's health"
            onClick={() => void model.refresh()}
          >
            Refresh
          </button>
        </header>
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
            <VersionList model={model} actions={this.actions} stage={model.stage} />
          </>
        )}
      </div>
    );
  }

  private _poll = 0;
}
