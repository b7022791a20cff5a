import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { covers, hasWildcard, matches, uncovered } from './capabilities.js';

describe('matches', () => {
  it('matches a literal pattern only to the same name', () => {
    assert.equal(matches('github.list_issues', 'github.list_issues'), true);
    assert.equal(matches('github.list_issues', 'github.list_issue'), false);
    assert.equal(matches('github.list_issues', 'GitHub.list_issues'), false);
  });

  it('lets * match within one dotted segment only', () => {
    assert.equal(matches('github.*', 'github.list_issues'), true);
    assert.equal(matches('github.*', 'github.repos.list'), false);
    assert.equal(matches('github.*', 'gitlab.list_issues'), false);
    assert.equal(matches('github.*_issues', 'github.list_issues'), true);
    assert.equal(matches('github.*_issues', 'github.x.list_issues'), false);
  });

  it('lets * match within one path segment only', () => {
    assert.equal(matches('http:billing/*', 'http:billing/invoices'), true);
    assert.equal(matches('http:billing/*', 'http:billing/invoices/42'), false);
  });

  it('lets ** match across segments', () => {
    assert.equal(matches('github.**', 'github.list_issues'), true);
    assert.equal(matches('github.**', 'github.repos.list'), true);
    assert.equal(matches('http:billing/**', 'http:billing/invoices/42'), true);
    assert.equal(matches('github.**', 'gitlab.repos.list'), false);
    assert.equal(matches('**', 'anything.at/all'), true);
  });

  it('anchors the pattern at both ends', () => {
    assert.equal(matches('github.*', 'x.github.list_issues'), false);
    assert.equal(matches('*.list', 'github.list.more'), false);
  });

  it('treats regular-expression metacharacters in patterns as literal text', () => {
    assert.equal(matches('a.b*', 'aXbc'), false);
    assert.equal(matches('a.b*', 'a.bc'), true);
    assert.equal(matches('calc(x)+*', 'calc(x)+y'), true);
    assert.equal(matches('calc(x)+*', 'calcxxy'), false);
    assert.equal(matches('[ab]*', 'a'), false);
    assert.equal(matches('[ab]*', '[ab]x'), true);
    assert.equal(matches('a|b*', 'b'), false);
    assert.equal(matches('price$*', 'price$5'), true);
    assert.equal(matches('^a?*', 'a'), false);
    assert.equal(matches('^a?*', '^a?z'), true);
    assert.equal(matches('a\\d*', 'a1'), false);
    assert.equal(matches('a\\d*', 'a\\d1'), true);
    assert.equal(matches('{1,2}*', '{1,2}x'), true);
  });
});

describe('covers', () => {
  it('covers a literal request that the entry matches', () => {
    assert.equal(covers('github.*', 'github.list_issues'), true);
    assert.equal(covers('github.*', 'github.repos.list'), false);
    assert.equal(covers('github.list_issues', 'github.list_issues'), true);
  });

  it('covers a wildcard request by the same pattern', () => {
    assert.equal(covers('github.*', 'github.*'), true);
    assert.equal(covers('github.**', 'github.**'), true);
  });

  it('covers a wildcard request by a literal prefix followed by **', () => {
    assert.equal(covers('**', 'github.*'), true);
    assert.equal(covers('github.**', 'github.*'), true);
    assert.equal(covers('github.**', 'github.repos.*'), true);
    assert.equal(covers('http:billing/**', 'http:billing/*'), true);
  });

  it('does not cover a wildcard request by a narrower or different pattern', () => {
    assert.equal(covers('github.list_*', 'github.*'), false);
    assert.equal(covers('github.*', 'github.**'), false);
    assert.equal(covers('github.*', 'github.repos.*'), false);
    assert.equal(covers('gitlab.**', 'github.*'), false);
    assert.equal(covers('github.repos.**', 'github.*'), false);
  });

  it('does not reason about entries whose prefix itself has a wildcard', () => {
    // `*.**` would in fact contain `github.*`; proving such containment is left out on purpose.
    assert.equal(covers('*.**', 'github.*'), false);
  });
});

describe('uncovered', () => {
  const profile = ['github.*', 'http:billing/**', 'slack.post_message'];

  it('lists exactly the requested capabilities outside the profile, in request order', () => {
    const requested = [
      'github.list_issues',
      'github.repos.list',
      'http:billing/invoices/42',
      'github.*',
      'slack.*',
      'slack.post_message',
      'github.**',
    ];
    assert.deepEqual(uncovered(profile, requested), ['github.repos.list', 'slack.*', 'github.**']);
  });

  it('returns nothing when the profile covers every request', () => {
    assert.deepEqual(uncovered(profile, ['github.create_issue', 'http:billing/*']), []);
    assert.deepEqual(uncovered(['**'], ['a.b', 'c/*', 'd.**']), []);
  });

  it('returns every request for an empty profile', () => {
    assert.deepEqual(uncovered([], ['github.list_issues', '**']), ['github.list_issues', '**']);
  });
});

describe('hasWildcard', () => {
  it('tells patterns from literal names', () => {
    assert.equal(hasWildcard('github.*'), true);
    assert.equal(hasWildcard('github.list_issues'), false);
  });
});
