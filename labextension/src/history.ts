/**
 * The version list of one notebook in one stage, loaded a page at a time.
 *
 * A notebook may have thousands of versions: a PagedList (paged.ts) holds what has been loaded
 * so far and the cursor of the next page, and drops answers that arrive after the list moved on
 * (another notebook, a reload).
 */
import { BookstoreApiError, BookstoreClient, IVersion, Stage } from './api';
import { IPagingState, PagedList } from './paged';

export const PAGE_SIZE = 50;

export interface IHistoryState extends IPagingState {
  path: string | null;
  stage: Stage;
  versions: IVersion[];
  /** The server's word when the notebook has no version in this stage (404). */
  emptyMessage: string | null;
}

/** Append `page` to `versions`, leaving out versions already listed (pages may overlap). */
export function mergeVersions(versions: IVersion[], page: IVersion[]): IVersion[] {
  const seen = new Set(versions.map(version => version.version_id));
  return versions.concat(page.filter(version => !seen.has(version.version_id)));
}

export class VersionHistory {
  constructor(
    private readonly client: Pick<BookstoreClient, 'versions'>,
    readonly stage: Stage,
    onChange: () => void = () => undefined,
    private readonly pageSize: number = PAGE_SIZE
  ) {
    this._pages = new PagedList(VersionHistory.initial(null, stage), onChange);
  }

  get state(): Readonly<IHistoryState> {
    return this._pages.state;
  }

  /** Forget what is loaded and show `path` (nothing when null); does not load. */
  setPath(path: string | null): void {
    if (path !== this.state.path) {
      this._pages.reset(VersionHistory.initial(path, this.stage));
    }
  }

  /** Load the first page again (the newest versions). */
  async reload(): Promise<void> {
    const path = this.state.path;
    if (path === null) {
      return;
    }
    await this._pages.reload(
      () => this.client.versions(path, this.stage, { limit: this.pageSize }),
      page => ({ versions: page.versions, emptyMessage: page.versions.length ? null : 'No versions yet.' }),
      error =>
        // No version in this stage: the server says what to do, in place of an error.
        error instanceof BookstoreApiError && error.isNotFound && error.reason === 'NotFoundError'
          ? { versions: [], nextCursor: null, emptyMessage: error.message, error: null }
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
      cursor => this.client.versions(path, this.stage, { limit: this.pageSize, cursor }),
      (state, page) => ({ versions: mergeVersions(state.versions, page.versions) })
    );
  }

  private static initial(path: string | null, stage: Stage): IHistoryState {
    return {
      path,
      stage,
      versions: [],
      nextCursor: null,
      loading: false,
      loaded: false,
      emptyMessage: null,
      error: null
    };
  }

  private readonly _pages: PagedList<IHistoryState>;
}
