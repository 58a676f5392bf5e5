/**
 * The lists of one notebook, loaded a page at a time: its versions in one stage, its runs.
 *
 * A notebook may have thousands of versions: a PagedList (paged.ts) holds what has been loaded
 * so far and the cursor of the next page, and drops answers that arrive after the list moved on
 * (another notebook, a reload).
 */
import { BookstoreApiError, BookstoreClient, IVersion, IVersionPage, Stage } from './api';
import { IPageAnswer, IPagingState, PagedList, mergeNew } from './paged';

export const PAGE_SIZE = 50;

/** What a notebook's list shows: which notebook, what is loaded of its list, and where the next page starts. */
export interface INotebookListState<I> extends IPagingState {
  path: string | null;
  items: I[];
  /** The server's word when the notebook has nothing to list (404), or that it listed none. */
  emptyMessage: string | null;
}

/** How a notebook's list asks for a page, what the page lists, and what tells two items apart. */
export interface INotebookListSource<I, P extends IPageAnswer> {
  fetch(path: string, options: { limit: number; cursor?: string }): Promise<P>;
  items(page: P): I[];
  key(item: I): string | null;
}

/** Append `page` to `versions`, leaving out versions already listed (pages may overlap). */
export function mergeVersions(versions: IVersion[], page: IVersion[]): IVersion[] {
  return mergeNew(versions, page, version => version.version_id);
}

/** One list of the notebook at a path, newest first, a page at a time. */
export class NotebookList<I, P extends IPageAnswer> {
  constructor(
    private readonly source: INotebookListSource<I, P>,
    onChange: () => void = () => undefined,
    private readonly pageSize: number = PAGE_SIZE
  ) {
    this._pages = new PagedList(NotebookList.initial<I>(null), onChange);
  }

  get state(): Readonly<INotebookListState<I>> {
    return this._pages.state;
  }

  /** The listed item with this key. */
  find(key: string | null): I | undefined {
    return this.state.items.find(item => this.source.key(item) === key);
  }

  /** Forget what is loaded and show `path` (nothing when null); does not load. */
  setPath(path: string | null): void {
    if (path !== this.state.path) {
      this._pages.reset(NotebookList.initial<I>(path));
    }
  }

  /** Load the first page again (the newest). */
  async reload(): Promise<void> {
    const path = this.state.path;
    if (path === null) {
      return;
    }
    await this._pages.reload(
      () => this.source.fetch(path, { limit: this.pageSize }),
      page => {
        const items = this.source.items(page);
        return { items, emptyMessage: items.length ? null : 'None yet.' };
      },
      error =>
        // Nothing to list: the server says what to do, in place of an error.
        error instanceof BookstoreApiError && error.isNotFound && error.reason === 'NotFoundError'
          ? { items: [], nextCursor: null, emptyMessage: error.message, error: null }
          : null
    );
  }

  /** Load the page after the last one loaded; nothing when on the last page or busy. */
  async loadMore(): Promise<void> {
    const path = this.state.path;
    if (path === null) {
      return;
    }
    await this._pages.loadMore(
      cursor => this.source.fetch(path, { limit: this.pageSize, cursor }),
      (state, page) => ({ items: mergeNew(state.items, this.source.items(page), this.source.key) })
    );
  }

  /**
   * List the newest page again above what is listed (new items first, changed ones replaced),
   * keeping the older pages loaded: for items that change while listed, such as runs.
   */
  async refreshNewest(): Promise<void> {
    const path = this.state.path;
    if (path === null) {
      return;
    }
    await this._pages.refreshFirst(
      () => this.source.fetch(path, { limit: this.pageSize }),
      (state, page) => {
        const items = mergeNew(this.source.items(page), state.items, this.source.key);
        return { items, emptyMessage: items.length ? null : state.emptyMessage };
      }
    );
  }

  private static initial<I>(path: string | null): INotebookListState<I> {
    return { path, items: [], nextCursor: null, loading: false, loaded: false, emptyMessage: null, error: null };
  }

  private readonly _pages: PagedList<INotebookListState<I>>;
}

/** The versions of one notebook in one stage. */
export class VersionHistory extends NotebookList<IVersion, IVersionPage> {
  constructor(
    client: Pick<BookstoreClient, 'versions'>,
    readonly stage: Stage,
    onChange?: () => void,
    pageSize?: number
  ) {
    super(
      {
        fetch: (path, options) => client.versions(path, stage, options),
        items: page => page.versions,
        key: version => version.version_id
      },
      onChange,
      pageSize
    );
  }
}
