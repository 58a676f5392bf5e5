/**
 * Menus made of groups of commands, a separator between two groups: a row's ⋯ menu and its
 * right-click menu, in the Version history and in Published notebooks alike; and the commands
 * of a panel's rows.
 *
 * Only types come from Lumino and JupyterLab, so that the unit tests run it in Node with
 * stand-in menus.
 */
import type { JupyterFrontEnd } from '@jupyterlab/application';
import type { LabIcon } from '@jupyterlab/ui-components';
import type { ReadonlyJSONObject, ReadonlyPartialJSONObject } from '@lumino/coreutils';
import type { ContextMenu, Menu } from '@lumino/widgets';

/** Actions in groups, in menu order. */
export type ActionGroups<A extends string> = readonly (readonly A[])[];

/** The menu items of `groups`: each action's command (with `args`), a separator between two groups. */
export function groupedItems<A extends string>(
  groups: ActionGroups<A>,
  commandIds: Readonly<Record<A, string>>,
  args?: ReadonlyJSONObject
): Menu.IItemOptions[] {
  return groups.flatMap((group, index) => [
    ...(index > 0 ? [{ type: 'separator' as const }] : []),
    ...group.map(action => ({ command: commandIds[action], ...(args && { args }) }))
  ]);
}

/** Fill `menu` afresh with the commands of `groups`, acting on `args`, and open it at a point of the page. */
export function openGroupedMenu<A extends string>(
  menu: Pick<Menu, 'clearItems' | 'addItem' | 'open'>,
  groups: ActionGroups<A>,
  commandIds: Readonly<Record<A, string>>,
  args: ReadonlyJSONObject,
  x: number,
  y: number
): void {
  menu.clearItems();
  for (const item of groupedItems(groups, commandIds, args)) {
    menu.addItem(item);
  }
  menu.open(x, y);
}

/** Add the commands of `groups` to the right-click menu of the elements `selector` matches, in order. */
export function addGroupedContextMenu<A extends string>(
  contextMenu: Pick<ContextMenu, 'addItem'>,
  selector: string,
  groups: ActionGroups<A>,
  commandIds: Readonly<Record<A, string>>
): void {
  groupedItems(groups, commandIds).forEach((item, rank) => contextMenu.addItem({ ...item, selector, rank }));
}

/** What a panel's row commands need to know: their ids, labels and captions, and what they act on. */
export interface IRowCommands<A extends string, T> {
  ids: Readonly<Record<A, string>>;
  labels: Readonly<Record<A, string>>;
  caption(action: A): string;
  icon?(action: A): LabIcon | undefined;
  /** The class of a row: the right-click menu's selector. */
  rowClass: string;
  /** The right-click menu's groups, in order. */
  contextMenu: ActionGroups<A>;
  /** What the command acts on as its args name it (⋯ menu, a row's button); null when they do not. */
  fromArgs(args: ReadonlyPartialJSONObject): T | null;
  /** What the command acts on as the row right-clicked names it (its `data-` attributes). */
  fromRow(row: HTMLElement): T | null;
  isVisible(action: A, target: T): boolean;
  isEnabled(action: A, target: T): boolean;
  execute(action: A, target: T): Promise<void>;
}

/** Add a panel's row commands, and its rows' right-click menu of them. */
export function addRowCommands<A extends string, T>(
  app: Pick<JupyterFrontEnd, 'commands' | 'contextMenu' | 'contextMenuHitTest'>,
  options: IRowCommands<A, T>
): void {
  // From the ⋯ menu or a button, the args name the target; from the right-click menu, the
  // row clicked does.
  const target = (args: ReadonlyPartialJSONObject): T | null => {
    const named = options.fromArgs(args);
    if (named !== null) {
      return named;
    }
    const row = app.contextMenuHitTest(node => node.classList.contains(options.rowClass));
    return row ? options.fromRow(row) : null;
  };
  for (const [action, id] of Object.entries(options.ids) as [A, string][]) {
    app.commands.addCommand(id, {
      label: options.labels[action],
      caption: () => options.caption(action),
      icon: options.icon?.(action),
      isVisible: args => {
        const found = target(args);
        return found !== null && options.isVisible(action, found);
      },
      isEnabled: args => {
        const found = target(args);
        return found !== null && options.isEnabled(action, found);
      },
      execute: args => {
        const found = target(args);
        return found === null ? undefined : options.execute(action, found);
      }
    });
  }
  addGroupedContextMenu(app.contextMenu, `.${options.rowClass}`, options.contextMenu, options.ids);
}
