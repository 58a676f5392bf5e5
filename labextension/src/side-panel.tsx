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

import { INotice } from './messages';
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
