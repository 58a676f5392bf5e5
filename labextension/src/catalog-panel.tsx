/**
 * The Published notebooks side panel: the team's published notebooks, grouped by owner and
 * filtered by owner or path, one dense row each as in the file browser, a page at a time,
 * with Open on the row and the other actions in its ⋯ menu (and right-click menu).
 *
 * A view only: what it shows comes from CatalogModel (catalog-model.ts), what it does goes
 * through the catalog commands (catalog-commands.ts).
 */
import {
  InputGroup,
  caretDownIcon,
  caretRightIcon,
  notebookIcon,
  searchIcon
} from '@jupyterlab/ui-components';
import { CommandRegistry } from '@lumino/commands';
import { Message } from '@lumino/messaging';
import * as React from 'react';

import { ICatalogEntry } from './api';
import { CATALOG_COMMANDS, CATALOG_MENU, CATALOG_ROW_CLASS, ICatalogArgs } from './catalog-commands';
import { CatalogModel, ICatalogGroup } from './catalog-model';
import { catalogIcon } from './icons';
import { openGroupedMenu } from './menus';
import { describeCatalogEmpty, describeError, describeNoCatalog } from './messages';
import { LoadMore, Notice, OpenRowMenu, PanelHeader, RowButtons, SidePanel, openOnDoubleClick } from './side-panel';

/** Opens a notebook's ⋯ menu at a point of the page. */
type OpenMenu = OpenRowMenu<ICatalogArgs>;

interface IRowProps {
  model: CatalogModel;
  commands: CommandRegistry;
  openMenu: OpenMenu;
}

function CatalogRow(props: IRowProps & { entry: ICatalogEntry }): JSX.Element {
  const { model, commands, openMenu, entry } = props;
  const row = model.row(entry);
  const args: ICatalogArgs = { notebookKey: entry.notebook_key };
  const canOpen = model.isEnabled('open', entry.notebook_key);
  const open = () => void commands.execute(CATALOG_COMMANDS.open, args);
  return (
    <li
      className={CATALOG_ROW_CLASS}
      data-notebook-key={entry.notebook_key}
      data-owner={entry.owner ?? ''}
      data-version-id={entry.version_id ?? ''}
      onDoubleClick={openOnDoubleClick(canOpen, open)}
    >
      <div className="jp-bookstore-CatalogEntry-main">
        <notebookIcon.react tag="span" className="jp-bookstore-CatalogEntry-icon" elementPosition="center" />
        <span className="jp-bookstore-CatalogEntry-path" title={entry.notebook_key}>
          {row.folder && (
            <span className="jp-bookstore-CatalogEntry-folder">
              {/* A narrow panel wraps the path at its slashes: every part of it stays readable. */}
              {row.folder.split('/').map((part, index, parts) =>
                index < parts.length - 1 ? (
                  <React.Fragment key={index}>
                    {part}/<wbr />
                  </React.Fragment>
                ) : null
              )}
            </span>
          )}
          <span className="jp-bookstore-CatalogEntry-name">{row.name}</span>
        </span>
        <RowButtons
          canOpen={canOpen}
          openLabel={`Open ${entry.notebook_key} read-only`}
          openTitle="Open this published version read-only in a new tab"
          onOpen={open}
          moreLabel={`More actions for ${entry.notebook_key}`}
          moreTitle="Copy into my notebooks, compare, copy its notebook_key, version id or DAG snippet"
          openMenu={openMenu}
          args={args}
        />
      </div>
      <div className="jp-bookstore-Version-meta">
        <span className="jp-bookstore-CatalogEntry-time" title={row.timeTitle}>
          {row.age || row.time}
        </span>
        {row.publishedBy !== null && <span className="jp-bookstore-CatalogEntry-by">by {row.publishedBy}</span>}
        <code className="jp-bookstore-Version-id" title={entry.version_id ?? 'no version id'}>
          {row.id}
        </code>
        <span>{row.size}</span>
        {row.scheduled !== null && (
          <span className="jp-bookstore-CatalogEntry-scheduled" title={row.scheduledTitle}>
            {row.scheduled}
          </span>
        )}
      </div>
    </li>
  );
}

function CatalogGroup(props: IRowProps & { group: ICatalogGroup; header: boolean }): JSX.Element {
  const { model, group, header } = props;
  const count = group.entries.length;
  const Caret = group.collapsed ? caretRightIcon.react : caretDownIcon.react;
  return (
    <section className="jp-bookstore-CatalogGroup" data-owner={group.owner ?? ''}>
      {header && (
        <button
          className="jp-bookstore-CatalogGroup-header"
          aria-expanded={!group.collapsed}
          title={`${group.collapsed ? 'Show' : 'Hide'} the notebooks ${group.label} published`}
          onClick={() => model.toggleGroup(group.owner)}
        >
          <Caret tag="span" elementPosition="center" />
          <span className="jp-bookstore-CatalogGroup-owner">{group.label}</span>
          {group.mine && (
            <span className="jp-bookstore-Badge" title="Published from this server: your notebooks">
              you
            </span>
          )}
          <span className="jp-bookstore-CatalogGroup-count" aria-label={`${count} notebook${count === 1 ? '' : 's'}`}>
            {count}
          </span>
        </button>
      )}
      {!group.collapsed && (
        <ul className="jp-bookstore-CatalogEntries">
          {group.entries.map(entry => (
            <CatalogRow key={entry.key} {...props} entry={entry} />
          ))}
        </ul>
      )}
    </section>
  );
}

function CatalogList(props: IRowProps): JSX.Element {
  const { model } = props;
  const state = model.state;
  const groups = model.groups();
  // Without owners in the keys (static prefixes), one unnamed group needs no header.
  const headers = groups.length > 1 || (groups.length === 1 && groups[0].owner !== null);
  const summary = model.summary();
  return (
    <>
      <InputGroup
        className="jp-bookstore-Catalog-filter"
        type="text"
        rightIcon={searchIcon}
        placeholder="Filter by owner or path"
        aria-label="Filter published notebooks by owner or path"
        spellCheck={false}
        // Uncontrolled: the model only follows what is typed, so typing never waits for a render.
        defaultValue={model.filter}
        onChange={event => (model.filter = event.currentTarget.value)}
      />
      {summary !== null && <div className="jp-bookstore-Catalog-summary">{summary}</div>}
      {model.busy !== null && <div className="jp-bookstore-Loading">{model.busy}</div>}
      {model.notice !== null && <Notice notice={model.notice} testId="catalog-outcome" />}
      {state.error !== null && state.error !== undefined && (
        <Notice notice={{ level: 'error', text: describeError(state.error) }} testId="catalog-error" />
      )}
      {state.loaded && !state.loading && state.error === null && groups.length === 0 && (
        <div className="jp-bookstore-Empty">
          {describeCatalogEmpty(state.entries.length ? model.filter : '', state.nextCursor !== null)}
        </div>
      )}
      <div className="jp-bookstore-CatalogGroups">
        {groups.map(group => (
          <CatalogGroup key={group.owner ?? ''} {...props} group={group} header={headers} />
        ))}
      </div>
      <LoadMore loading={state.loading} more={state.nextCursor !== null} onLoadMore={() => void model.loadMore()} />
    </>
  );
}

/** The side panel. */
export class CatalogPanel extends SidePanel<CatalogModel> {
  constructor(model: CatalogModel, commands: CommandRegistry) {
    super(model, commands, {
      id: 'jp-bookstore-catalog',
      className: 'jp-bookstore-CatalogPanel',
      icon: catalogIcon,
      caption: 'Published notebooks',
      menuClass: 'jp-bookstore-CatalogMenu'
    });
  }

  /** The ⋯ menu of the notebook `args` names. */
  private readonly openMenu: OpenMenu = (args, x, y) =>
    openGroupedMenu(this.menu, CATALOG_MENU, CATALOG_COMMANDS, args, x, y);

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    void this.model.refreshIfStale();
  }

  protected render(): JSX.Element {
    const model = this.model;
    const availability = model.availability;
    return (
      <div className="jp-bookstore-History jp-bookstore-Catalog">
        <PanelHeader
          title="Published notebooks"
          refreshTitle="List the team's published notebooks again"
          onRefresh={() => void model.refresh()}
        />
        {availability === 'available' ? (
          <CatalogList model={model} commands={this.commands} openMenu={this.openMenu} />
        ) : availability === 'unavailable' ? (
          <div className="jp-bookstore-Empty" data-testid="no-catalog">
            {describeNoCatalog()}
          </div>
        ) : model.state.error !== null && model.state.error !== undefined ? (
          <Notice notice={{ level: 'error', text: describeError(model.state.error) }} testId="catalog-error" />
        ) : (
          <div className="jp-bookstore-Loading">Loading…</div>
        )}
      </div>
    );
  }
}
