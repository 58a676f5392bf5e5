import { describe, expect, it } from 'vitest';

import { BookstoreApiError, IStatus } from '../src/api';
import { describeEmpty, describeError, describeHealth, describePublished, sentences } from '../src/messages';

function status(overrides: Partial<IStatus> = {}, archive: Partial<IStatus['archive']> = {}): IStatus {
  return {
    version: '0.1.0',
    features: [],
    archiving: true,
    bucket: 'notebooks',
    bucket_uri: 's3://notebooks',
    versioning: 'Enabled',
    archive: { state: 'ok', pending: 0, last_error: null, ...archive },
    ...overrides
  };
}

describe('describeHealth', () => {
  it('says all is archived when it is', () => {
    expect(describeHealth(status())).toEqual([{ level: 'ok', text: 'All saves are archived to s3://notebooks.' }]);
  });

  it('names a GCS bucket by its gs:// URI and GCS settings', () => {
    expect(describeHealth(status({ backend: 'gcs', bucket_uri: 'gs://notebooks' }))).toEqual([
      { level: 'ok', text: 'All saves are archived to gs://notebooks.' }
    ]);
    const gcs = { backend: 'gcs', bucket_uri: 'gs://notebooks' };
    const [full] = describeHealth(status(gcs, { state: 'spool-full', pending: 1 }));
    expect(full.text).toContain('GCS has been failing');
    expect(full.text).not.toContain('S3');
    const [none] = describeHealth(status({ backend: 'gcs', bucket: null }));
    expect(none.text).toContain('No GCS bucket is configured');
    expect(none.text).toContain('c.Bookstore.GCS.bucket');
    expect(describeHealth(status({ backend: 's3' }))[0].text).toBe('All saves are archived to s3://notebooks.');
  });

  it('counts saves waiting to be archived', () => {
    const [notice] = describeHealth(status({}, { pending: 2 }));
    expect(notice).toEqual({ level: 'info', text: '2 saves waiting to be archived to s3://notebooks.' });
  });

  it('tells autosaves held for their interval from saves on their way', () => {
    const notices = describeHealth(status({}, { pending: 3, waiting: 1 }));
    expect(notices.map(n => n.text)).toEqual([
      '2 saves waiting to be archived to s3://notebooks.',
      '1 autosave of collaborative editing is archived once the autosave interval since the last ' +
        'version is over (saving archives at once).'
    ]);
  });

  it('shows the last error while retrying, and that the saves are kept', () => {
    const [notice] = describeHealth(status({}, { state: 'retrying', pending: 1, last_error: 'EndpointConnectionError' }));
    expect(notice.level).toBe('error');
    expect(notice.text).toContain('1 save is kept on this server and retried');
    expect(notice.text).toContain('Last error: EndpointConnectionError');
  });

  it('says when saves are no longer archived at all', () => {
    const [notice] = describeHealth(status({}, { state: 'spool-full', pending: 9, not_archived: 3, last_error: 'x' }));
    expect(notice.level).toBe('error');
    expect(notice.text).toContain('NOT archived');
    expect(notice.text).toContain('3 saves not archived so far');
  });

  it.each([
    [null, 'not enabled'],
    ['Suspended', 'suspended']
  ])('warns that versioning %s keeps no history', (versioning, word) => {
    const notices = describeHealth(status({ versioning }));
    expect(notices[0].level).toBe('error');
    expect(notices[0].text).toContain(`Versioning is ${word} on s3://notebooks`);
  });

  it("names a GCS bucket by its gs:// URI, with the server's fix for its versioning", () => {
    const fix = 'enable object versioning on it, e.g. `gcloud storage buckets update gs://notebooks --versioning`';
    const notices = describeHealth(
      status({ backend: 'gcs', bucket_uri: 'gs://notebooks', versioning: null, versioning_fix: fix })
    );
    expect(notices[0].text).toBe(
      'Versioning is not enabled on gs://notebooks: each save replaces the previous one, so no history is kept. ' +
        `Ask whoever runs the bucket to ${fix}.`
    );
    expect(notices.map(n => n.text).join(' ')).not.toContain('s3://');
  });

  it('says saves are held, not lost, while the bucket keeps no versions', () => {
    const notices = describeHealth(
      status({ versioning: 'Suspended' }, { state: 'held', pending: 2, fault: 'versioning-off', last_error: 'enable it' })
    );
    expect(notices).toHaveLength(1);
    expect(notices[0].level).toBe('error');
    expect(notices[0].text).toContain('2 saves are kept on this server, not archived');
    expect(notices[0].text).toContain('Last error: enable it');
  });

  it('does not warn while versioning is not checked yet', () => {
    expect(describeHealth(status({ versioning: 'unknown' }))[0].level).toBe('ok');
  });

  it('says how to turn archiving on, and what still works', () => {
    const notices = describeHealth({ version: '0.1.0', features: [], archiving: false, bucket: 'notebooks' });
    expect(notices).toHaveLength(1);
    expect(notices[0].level).toBe('warning');
    expect(notices[0].text).toContain('BookstoreContentsArchiver');
  });

  it('quotes the last error once, with its own punctuation', () => {
    const [notice] = describeHealth(status({}, { state: 'retrying', pending: 2, last_error: 'Is the server running?' }));
    expect(notice.text).toBe(
      'Archiving to s3://notebooks is failing; 2 saves are kept on this server and retried. ' +
        'Last error: Is the server running?'
    );
    const [full] = describeHealth(status({}, { state: 'spool-full', pending: 1, not_archived: 1, last_error: 'x' }));
    expect(full.text).toMatch(/\(1 save not archived so far\)\. Last error: x\.$/);
  });

  it('says how to configure a bucket', () => {
    const notices = describeHealth({ version: '0.1.0', features: [], archiving: false, bucket: null });
    expect(notices[0].text).toContain('c.Bookstore.S3.bucket');
  });
});

describe('sentences', () => {
  it('adds a period only where a sentence has none', () => {
    expect(sentences('S3 is down: is the server running?', 'Try again.')).toBe('S3 is down: is the server running? Try again.');
    expect(sentences('Done.', 'Then this', null, '', 'And "quoted."')).toBe('Done. Then this. And "quoted."');
    expect(sentences('It failed (see the log).', 'Retry')).toBe('It failed (see the log). Retry.');
  });
});

describe('describeError', () => {
  it('does not double the punctuation of the message it quotes', () => {
    const text = describeError(
      new BookstoreApiError(503, 'could not connect to http://s3:8333: is the server running?', 'StoreUnavailableError')
    );
    expect(text).toContain('is the server running? Your notebooks are saved');
    expect(text).not.toMatch(/[?.]\./);
    const refused = describeError(new BookstoreApiError(503, 'S3 refused the credentials.', 'MisconfiguredError'));
    expect(refused).toBe(
      "S3 refused the credentials. Your notebooks are saved on this server; whoever runs it needs to fix bookstore's bucket settings."
    );
    expect(describeError(new BookstoreApiError(0, 'the server went away.'))).toBe(
      'The server went away. Check that Jupyter is still running, then try again.'
    );
  });

  it('says what to do when the bucket is down', () => {
    const text = describeError(new BookstoreApiError(503, 'S3 at http://s3 is unavailable', 'StoreUnavailableError'));
    expect(text).toContain('The bucket is unavailable');
    expect(text).toContain('try again once it answers');
  });

  it('says who can fix refused credentials', () => {
    const text = describeError(new BookstoreApiError(503, 'S3 refused the credentials (403)', 'MisconfiguredError'));
    expect(text).toContain("fix bookstore's bucket settings");
    expect(text).not.toContain('The bucket is unavailable');
  });

  it('tells a missing server extension from a missing notebook', () => {
    expect(describeError(new BookstoreApiError(404, 'Not Found', null))).toContain('server extension is not enabled');
    expect(describeError(new BookstoreApiError(404, "'a.ipynb' has no published versions", 'NotFoundError'))).toBe(
      "'a.ipynb' has no published versions"
    );
  });

  it('asks to sign in again on 403, and to check Jupyter when unreachable', () => {
    expect(describeError(new BookstoreApiError(403, 'Forbidden'))).toContain('sign in again');
    expect(describeError(new BookstoreApiError(0, 'the Jupyter server could not be reached (x)'))).toContain(
      'Check that Jupyter is still running'
    );
  });

  it('shows other errors as they are', () => {
    expect(describeError(new Error('boom'))).toBe('boom');
    expect(describeError('plain')).toBe('plain');
  });
});

describe('describeEmpty', () => {
  it('says once that a notebook is not published yet, and what to do', () => {
    const text = describeEmpty('published');
    expect(text.match(/not published yet/gi)).toHaveLength(1);
    expect(text).toContain('File ▸ Publish Notebook');
    expect(describeEmpty('workspace')).toContain('No archived saves yet');
  });

  it('says where runs come from: Airflow or bookstore run', () => {
    const text = describeEmpty('runs');
    expect(text).toContain('No runs yet');
    expect(text).toContain('Airflow');
    expect(text).toContain('bookstore run');
  });
});

describe('describePublished', () => {
  const published = {
    path: 'analysis/mine.ipynb',
    key: 'published/analysis/mine.ipynb',
    version_id: '6714a8e1b2c3',
    source_key: 'workspace/analysis/mine.ipynb',
    source_version_id: 'w1',
    sha256: null,
    unchanged: false
  };

  it('names the new version', () => {
    expect(describePublished(published, '6714a8e1…')).toEqual({
      level: 'ok',
      text: 'Published version 6714a8e1… of mine.ipynb.'
    });
  });

  it('says when nothing new was published', () => {
    expect(describePublished({ ...published, unchanged: true }, '6714a8e1…')).toEqual({
      level: 'info',
      text: 'Already published: version 6714a8e1… is the same as this save (nothing new was published).'
    });
  });
});
