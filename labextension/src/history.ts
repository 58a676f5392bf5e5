/**
 * The version list of one notebook in one stage, loaded a page at a time.
 *
 * A notebook may have thousands of versions: the list holds what has been loaded so far and
 * the cursor of the next page, and never asks for more than one page at once. Answers that
 * arrive after the list moved on (another notebook, a reload) are dropped.
 */
import { BookstoreApiError, BookstoreClient, IVersion, Stage } from './api';

export const PAGE_SIZE = 50;

export interface IHistoryState {
  path: string | null;
  stage: Stage;
  versions: IVersion[];
  nextCursor: string | null;
  loading: boolean;
  /** True once the first page has answered (with versions or with "none"). */
  loaded: boolean;
  /** The server's word when the notebook has no version in this stage (404). */
  emptyMessage: string | null;
  error: unknown;
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
    private readonly onChange: () => void = () => undefined,
    private readonly pageSize: number = PAGE_SIZE
  ) {
    this._state = VersionHistory.initial(null, stage);
  }

  get state(): Readonly<IHistoryState> {
    return this._state;
  }

  /** Forget what is loaded and show `path` (nothing when null); does not load. */
  setPath(path: string | null): void {
    if (path === this._state.path) {
      return;
    }
    this._generation += 1;
    this.update(VersionHistory.initial(path, this.stage));
  }

  /** Load the first page again (the newest versions). */
  async reload(): Promise<void> {
    const path = this._state.path;
    if (path === null) {
      return;
    }
    const generation = ++this._generation;
    this.update({ ...this._state, loading: true, error: null });
    try {
      const page = await this.client.versions(path, this.stage, { limit: this.pageSize });
      if (generation !== this._generation) {
        return;
      }
      this.update({
        ...this._state,
        versions: page.versions,
        nextCursor: page.next_cursor,
        loading: false,
        loaded: true,
        emptyMessage: page.versions.length ? null : 'No versions yet.',
        error: null
      });
    } catch (error) {
      if (generation !== this._generation) {
        return;
      }
      if (error instanceof BookstoreApiError && error.isNotFound && error.reason === 'NotFoundError') {
        this.update({
          ...this._state,
          versions: [],
          nextCursor: null,
          loading: false,
          loaded: true,
          emptyMessage: error.message,
          error: null
        });
      } else {
        this.update({ ...this._state, loading: false, loaded: true, error });
      }
    }
  }

  /** Load the page after the last one loaded; nothing when on the last page or busy. */
  async loadMore(): Promise<void> {
    const { path, nextCursor, loading } = this._state;
    if (path === null || nextCursor === null || loading) {
      return;
    }
    const generation = this._generation;
    this.update({ ...this._state, loading: true, error: null });
    try {
      const page = await this.client.versions(path, this.stage, {
        limit: this.pageSize,
        cursor: nextCursor
      });
      if (generation !== this._generation) {
        return;
      }
      this.update({
        ...this._state,
        versions: mergeVersions(this._state.versions, page.versions),
        nextCursor: page.next_cursor,
        loading: false
      });
    } catch (error) {
      if (generation !== this._generation) {
        return;
      }
      this.update({ ...this._state, loading: false, error });
    }
  }

  private update(state: IHistoryState): void {
    this._state = state;
    this.onChange();
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

  private _state: IHistoryState;
  private _generation = 0;
}
