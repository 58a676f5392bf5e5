/**
 * What the two side panels, Version history and Published notebooks, have in common: the
 * widget's title and classes, the one ⋯ menu filled afresh for each row, telling the model
 * whether the panel is shown, and how a notice looks.
 */
import { LabIcon, MenuSvg, VDomRenderer, ellipsesIcon } from '@jupyterlab/ui-components';
import { CommandRegistry } from '@lumino/commands';
import { ReadonlyJSONObject } from '@lumino/coreutils';
import { Message } from '@lumino/messaging';
import * as React from 'react';

import { INotice, describeError } from './messages';
import { IPagingState } from './paged';
import { PanelModelBase } from './panel-model';

/** A notice: an alert when it is an error, else a status. */
export function Notice(props: { notice: INotice; testId?: string }): JSX.Element {
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

/** A panel's title, with its Refresh button. */
export function PanelHeader(props: { title: string; refreshTitle: string; onRefresh: () => void }): JSX.Element {
  return (
    <header className="jp-bookstore-History-header">
      <h2>{props.title}</h2>
      <button className="jp-bookstore-Refresh" title={props.refreshTitle} onClick={props.onRefresh}>
        Refresh
      </button>
    </header>
  );
}

/** A row's ⋯ button: opens the row's menu below it. */
export function MoreButton(props: { label: string; title: string; onOpen: (x: number, y: number) => void }): JSX.Element {
  return (
    <button
      className="jp-bookstore-Version-more"
      aria-label={props.label}
      aria-haspopup="menu"
      title={props.title}
      onClick={event => {
        const rect = event.currentTarget.getBoundingClientRect();
        props.onOpen(rect.left, rect.bottom);
      }}
    >
      <ellipsesIcon.react tag="span" elementPosition="center" />
    </button>
  );
}

/** A row's Open button and its ⋯ button, opening its menu with the row's `args`. */
export function RowButtons<Args extends ReadonlyJSONObject>(props: {
  canOpen: boolean;
  /** The Open button's name for screen readers, when `Open` alone does not say what. */
  openLabel?: string;
  openTitle: string;
  onOpen: () => void;
  moreLabel: string;
  moreTitle: string;
  openMenu: OpenRowMenu<Args>;
  args: Args;
}): JSX.Element {
  const { openMenu, args } = props;
  return (
    <>
      <button
        className="jp-bookstore-Action"
        disabled={!props.canOpen}
        aria-label={props.openLabel}
        title={props.openTitle}
        onClick={props.onOpen}
      >
        Open
      </button>
      <MoreButton label={props.moreLabel} title={props.moreTitle} onOpen={(x, y) => openMenu(args, x, y)} />
    </>
  );
}

/** As in the file browser, a double click on a row opens it, unless it is on one of the row's controls. */
export function openOnDoubleClick(canOpen: boolean, open: () => void): (event: React.MouseEvent) => void {
  return event => {
    const onControl = (event.target as HTMLElement).closest('button, a, input') !== null;
    if (!onControl && canOpen) {
      open();
    }
  };
}

/** Below a list: `Loading…` while a page is on its way, else a Load more button while there are more pages. */
export function LoadMore(props: { loading: boolean; more: boolean; onLoadMore: () => void }): JSX.Element | null {
  if (props.loading) {
    return <div className="jp-bookstore-Loading">Loading…</div>;
  }
  return props.more ? (
    <button className="jp-bookstore-LoadMore" onClick={props.onLoadMore}>
      Load more
    </button>
  ) : null;
}

/**
 * One notebook's list in a tab, a page at a time: what went wrong, what an empty list means
 * (the server's own words as its tooltip), the rows, and Load more.
 */
export function PagedRows(props: {
  state: Readonly<IPagingState & { emptyMessage: string | null }>;
  /** What the tab says when there is nothing to list. */
  empty: string;
  className: string;
  /** The tab, as `data-stage`. */
  tab: string;
  listClassName: string;
  onLoadMore: () => void;
  children: React.ReactNode;
}): JSX.Element {
  const { state } = props;
  return (
    <div className={props.className} data-stage={props.tab} role="tabpanel">
      {state.error !== null && state.error !== undefined && (
        <Notice notice={{ level: 'error', text: describeError(state.error) }} />
      )}
      {state.emptyMessage !== null && (
        <div className="jp-bookstore-Empty" title={state.emptyMessage}>
          {props.empty}
        </div>
      )}
      <ul className={props.listClassName}>{props.children}</ul>
      <LoadMore loading={state.loading} more={state.nextCursor !== null} onLoadMore={props.onLoadMore} />
    </div>
  );
}

/** Opens a row's ⋯ menu at a point of the page. */
export type OpenRowMenu<Args extends ReadonlyJSONObject> = (args: Args, x: number, y: number) => void;

export interface ISidePanelOptions {
  /** The widget's id, its class, and its tab's icon and tooltip. */
  id: string;
  className: string;
  icon: LabIcon;
  caption: string;
  /** The class of the rows' ⋯ menu. */
  menuClass: string;
}

/** A side panel rendering `model`, whose rows each have a ⋯ menu of commands. */
export abstract class SidePanel<M extends PanelModelBase> extends VDomRenderer<M> {
  constructor(
    model: M,
    protected readonly commands: CommandRegistry,
    options: ISidePanelOptions
  ) {
    super(model);
    this.id = options.id;
    this.addClass(options.className);
    this.title.icon = options.icon;
    this.title.caption = options.caption;
    this.menu = new MenuSvg({ commands });
    this.menu.addClass(options.menuClass);
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this.model.visible = true;
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this.model.visible = false;
  }

  dispose(): void {
    this.menu.dispose();
    super.dispose();
  }

  /** The rows' ⋯ menu: one menu, filled afresh for each row (openGroupedMenu). */
  protected readonly menu: MenuSvg;
}
