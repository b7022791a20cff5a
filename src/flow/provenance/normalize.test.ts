import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { extractValues } from './extract.js';
import { ibanChecksumOk, normalizeDomain, normalizeEmail, normalizeHandle, normalizeIban, normalizePhone, normalizeUrl } from './normalize.js';

/** Every spelling in `spellings` extracts to the same single value of that kind. */
function sameValue(spellings: string[]): void {
  const forms = spellings.map((s) => JSON.stringify(extractValues(s)));
  assert.equal(new Set(forms).size, 1, forms.join('\n'));
}

describe('normalization', () => {
  it('folds the case of emails and drops mailto:', () => {
    assert.equal(normalizeEmail('Desk@Example.COM'), 'desk@example.com');
    assert.equal(normalizeEmail('mailto:desk@example.com'), 'desk@example.com');
    assert.equal(normalizeEmail('desk@example'), null);
    sameValue(['desk@example.com', 'DESK@EXAMPLE.COM', 'mailto:Desk@example.com', '<desk@example.com>.']);
  });

  it('folds case, a trailing dot and a leading www. of domains', () => {
    assert.equal(normalizeDomain('WWW.Example.com.'), 'example.com');
    assert.equal(normalizeDomain('www2.example.com'), 'www2.example.com');
    sameValue(['example.com', 'www.example.com', 'EXAMPLE.COM', 'Example.com.']);
  });

  it('reduces a URL to host and path, whatever the scheme, query, fragment or trailing slash', () => {
    assert.deepEqual(normalizeUrl('https://www.Example.com/Inbox/?x=1#y'), { url: 'example.com/Inbox', domain: 'example.com' });
    assert.deepEqual(normalizeUrl('example.com/Inbox'), { url: 'example.com/Inbox', domain: 'example.com' });
    assert.equal(normalizeUrl('javascript:alert(1)'), null);
    sameValue(['https://example.com/collect', 'http://www.example.com/collect/', 'www.example.com/collect?d=1', 'HTTPS://EXAMPLE.COM/collect#x']);
  });

  it('keeps the case of a URL path', () => {
    assert.notEqual(normalizeUrl('https://example.com/A')!.url, normalizeUrl('https://example.com/a')!.url);
  });

  it('removes separators of IBANs and upper-cases them', () => {
    assert.equal(normalizeIban('nl09 wrdn-0417 1643 00'), 'NL09WRDN0417164300');
    sameValue(['NL09WRDN0417164300', 'NL09 WRDN 0417 1643 00', 'NL09-WRDN-0417-1643-00']);
  });

  it('checks IBANs with mod 97', () => {
    assert.equal(ibanChecksumOk('NL09WRDN0417164300'), true);
    assert.equal(ibanChecksumOk('NL10WRDN0417164300'), false);
    assert.equal(ibanChecksumOk('NL09'), false);
  });

  it('keeps only the digits of phone numbers, and a leading +', () => {
    assert.equal(normalizePhone('+44 (20) 7946-0958'), '+442079460958');
    assert.equal(normalizePhone('(555) 010-0123'), '5550100123');
    sameValue(['+44 20 7946 0958', '+44-20-7946-0958', '+442079460958', '(+44) 20 7946 0958']);
  });

  it('treats card numbers written with or without separators as one', () => {
    sameValue(['4000 1234 5678 9010', '4000-1234-5678-9010', '4000123456789010']);
  });

  it('folds handles: case, a leading @, inner spaces, fullwidth letters', () => {
    assert.equal(normalizeHandle('@Quentin'), 'quentin');
    assert.equal(normalizeHandle('  Otto   Example '), 'otto example');
    assert.equal(normalizeHandle('ＱＵＥＮＴＩＮ'), 'quentin');
    assert.equal(normalizeHandle('12345'), null);
    assert.equal(normalizeHandle('one two three four five'), null);
  });
});
