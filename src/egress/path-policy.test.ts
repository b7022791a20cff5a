import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WardenError } from '../errors/warden-error.js';
import { checkPath, checkQuery, underPrefix } from './path-policy.js';

function refused(raw: string, prefixes: readonly string[] = ['/']): string | undefined {
  try {
    checkPath(raw, prefixes);
    return undefined;
  } catch (err) {
    assert.ok(err instanceof WardenError);
    assert.equal(err.code, 'EGRESS_PATH_NOT_ALLOWED');
    return String(err.details?.reason);
  }
}

describe('checkPath', () => {
  const TRAVERSAL = [
    '/..',
    '/../etc/passwd',
    '/repos/../admin',
    '/repos/./x',
    '/repos/%2e%2e/admin',
    '/repos/%2E%2E/admin',
    '/repos/.%2e/admin',
    '/repos/%2e./admin',
    '/repos/%2e/admin',
    '/repos/%252e%252e/admin',
    '/repos/..',
  ];
  for (const raw of TRAVERSAL) it(`refuses the dot segment in ${raw}`, () => assert.equal(refused(raw), 'traversal'));

  const SEPARATORS = ['/repos%2f..%2fadmin', '/repos/a%2Fb', '/repos/a%5cb', '/repos/a%5C..', '/repos/a%252fb'];
  for (const raw of SEPARATORS) it(`refuses the encoded separator in ${raw}`, () => assert.equal(refused(raw), 'encoded-separator'));

  it('refuses backslashes, NUL and control characters, raw or encoded', () => {
    assert.equal(refused('/repos\\..\\admin'), 'backslash');
    assert.equal(refused('/repos/a\u0000b'), 'control-char');
    assert.equal(refused('/repos/a%00b'), 'control-char');
    assert.equal(refused('/repos/a%0d%0aX-Evil:1'), 'control-char');
    assert.equal(refused('/repos/a\r\nb'), 'control-char');
    assert.equal(refused('/repos/a%7fb'), 'control-char');
  });

  it('refuses what cannot be a path here', () => {
    assert.equal(refused('repos'), 'malformed');
    assert.equal(refused('/repos/a b'), 'malformed');
    assert.equal(refused('/repos/é'), 'malformed');
    assert.equal(refused('/repos?x=1'), 'malformed');
    assert.equal(refused('/repos#frag'), 'malformed');
    assert.equal(refused('/repos/%zz'), 'malformed');
    assert.equal(refused('/repos/%2'), 'malformed');
    assert.equal(refused('/repos/%2525252e'), 'encoded');
    assert.equal(refused('/repos/%25252e%25252e'), 'traversal');
  });

  it('matches prefixes on a segment boundary', () => {
    assert.equal(refused('/repos', ['/repos']), undefined);
    assert.equal(refused('/repos/', ['/repos']), undefined);
    assert.equal(refused('/repos/warden/issues', ['/repos']), undefined);
    assert.equal(refused('/reposX', ['/repos']), 'prefix');
    assert.equal(refused('/repos-admin/x', ['/repos']), 'prefix');
    assert.equal(refused('/repo', ['/repos']), 'prefix');
    assert.equal(refused('/user', ['/repos', '/orgs']), 'prefix');
    assert.equal(refused('/orgs/x', ['/repos', '/orgs']), undefined);
  });

  it('with a trailing slash on the prefix admits only what is below it', () => {
    assert.equal(underPrefix('/repos', '/repos/'), false);
    assert.equal(underPrefix('/repos/x', '/repos/'), true);
    assert.equal(underPrefix('/anything', '/'), true);
  });

  it('matches the decoded path, so an encoded letter cannot dodge or fake a prefix', () => {
    assert.deepEqual(checkPath('/repo%73/x', ['/repos']), { path: '/repo%73/x', decoded: '/repos/x' });
    assert.equal(refused('/%72epos2/x', ['/repos']), 'prefix');
  });

  it('merges repeated slashes and keeps the encoding otherwise', () => {
    assert.deepEqual(checkPath('//repos//a%20b/', ['/repos']), { path: '/repos/a%20b/', decoded: '/repos/a b/' });
    assert.deepEqual(checkPath('', ['/']), { path: '/', decoded: '/' });
    assert.equal(refused('//reposX', ['/repos']), 'prefix');
  });
});

describe('checkQuery', () => {
  it('keeps a well-formed query as it is, without its ?', () => {
    assert.equal(checkQuery('?a=%20x&b=1+2'), 'a=%20x&b=1+2');
    assert.equal(checkQuery(''), '');
  });

  it('refuses spaces, control characters, non-ASCII and fragments', () => {
    for (const bad of ['a=b c', 'a=b\r\nHost: x', 'a=\u0000', 'a=é', 'a=1#frag']) {
      assert.throws(() => checkQuery(bad), (err: WardenError) => err.code === 'INVALID_INPUT', bad);
    }
  });
});
