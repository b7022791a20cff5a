import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { extractValues } from './extract.js';
import type { TrackedKind } from './tracked-value.js';

/** The values of one kind found in `input`. */
const of = (kind: TrackedKind, input: unknown): string[] =>
  extractValues(input)
    .filter((v) => v.kind === kind)
    .map((v) => v.value);

describe('extractValues: emails', () => {
  it('finds addresses in prose without the punctuation around them', () => {
    const text = 'Write to Quentin.Roe@Example.COM, or (mirela+billing@example.org). Ask <ops@mail.example.com>!';
    assert.deepEqual(of('email', text), ['quentin.roe@example.com', 'mirela+billing@example.org', 'ops@mail.example.com']);
  });

  it('drops mailto: and a sentence that runs into the address', () => {
    assert.deepEqual(of('email', 'mailto:desk@example.com?subject=hi'), ['desk@example.com']);
    assert.deepEqual(of('email', 'Mail desk@example.com.Then wait.'), ['desk@example.com']);
  });

  it('does not take an address’s domain as a domain of its own', () => {
    assert.deepEqual(of('domain', 'desk@example.com'), []);
  });

  it('rejects strings that only look like addresses', () => {
    assert.deepEqual(of('email', 'user@localhost, a@b.c, @example.com, package@1.2.3, x@y'), []);
  });
});

describe('extractValues: URLs and domains', () => {
  it('normalizes a URL to host and path and also yields its host as a domain', () => {
    const values = extractValues('See HTTPS://WWW.Example.com/Reports/2024/?page=2&sort=asc#top.');
    assert.deepEqual(values, [
      { kind: 'url', value: 'example.com/Reports/2024' },
      { kind: 'domain', value: 'example.com' },
    ]);
  });

  it('yields only the domain for a URL without a path', () => {
    assert.deepEqual(extractValues('go to https://example.org/ now'), [{ kind: 'domain', value: 'example.org' }]);
  });

  it('keeps a non-web scheme and a port', () => {
    assert.deepEqual(of('url', 'ftp://files.example.com:2121/pub/x.tar.gz'), ['ftp://files.example.com:2121/pub/x.tar.gz']);
  });

  it('takes a URL out of markup and brackets', () => {
    assert.deepEqual(of('url', '<a href="https://example.com/a?b=1">x</a> [doc](https://example.org/wiki/Thing_(x))'), [
      'example.com/a',
      'example.org/wiki/Thing_(x)',
    ]);
  });

  it('finds a bare host, with or without a path, and folds www.', () => {
    const text = 'Post it on www.example-site.com/inbox, then visit example.org and Docs.Example.NET.';
    assert.deepEqual(of('url', text), ['example-site.com/inbox']);
    assert.deepEqual(of('domain', text), ['example-site.com', 'example.org', 'docs.example.net']);
  });

  it('reads a host inside a query parameter', () => {
    assert.deepEqual(of('domain', 'https://example.com/login?next=evil.example.org'), ['example.com', 'evil.example.org']);
  });

  it('does not take file names, abbreviations, versions, decimals, dates or code for domains', () => {
    const text = [
      'Open report.pdf and notes.txt, then config.yaml and main.py or index.html.',
      'E.g. this, i.e. that, at 5 p.m. in the U.S.',
      'Version 1.2.3 or v2.10.0-beta, pi is 3.14159, date 2024.01.15, host 192.168.0.1.',
      'Call console.log(value) and window.localStorage or user.name and this.store.',
      'The end.Next sentence; Mr.Smith said so. Node.js and Vue.js.',
      'A path /srv/data/example.com is a path, not a host.',
    ].join('\n');
    assert.deepEqual(of('domain', text), []);
  });
});

describe('extractValues: IBANs', () => {
  it('finds IBANs in the electronic and the paper format', () => {
    const text = 'Pay NL09WRDN0417164300 or DE59 7635 0000 0012 3456 78, or BE71-0961-2345-6769.';
    assert.deepEqual(of('iban', text), ['NL09WRDN0417164300', 'DE59763500000012345678', 'BE71096123456769']);
  });

  it('keeps an IBAN-shaped value whose check digits are wrong', () => {
    // An injected account need not be valid; an agent copies it as written.
    assert.deepEqual(of('iban', 'Send the balance to XY120000000343434343434 today'), ['XY120000000343434343434']);
  });

  it('stops a spaced IBAN where its groups of four end', () => {
    assert.deepEqual(of('iban', 'IBAN DE59 7635 0000 0012 3456 78 AB12 rest'), ['DE59763500000012345678']);
    assert.deepEqual(of('iban', 'to XY120000000343434343434 ASAP'), ['XY120000000343434343434']);
  });

  it('ignores lower-case and too-short look-alikes', () => {
    assert.deepEqual(of('iban', 'nl09wrdn0417164300 AB12CDEF ISO9001 certified'), []);
  });
});

describe('extractValues: account and card numbers', () => {
  it('finds long digit runs and card-style groups', () => {
    const text = 'Account 12345678, ref 987654321012; card 4000 1234 5678 9010 or 4000-1234-5678-9010.';
    assert.deepEqual(of('account', text), ['12345678', '987654321012', '4000123456789010']);
  });

  it('takes long integers from JSON but not amounts or counts', () => {
    assert.deepEqual(of('account', { account: 123456789, amount: 1234.5, n: 42, big: 9999999 }), ['123456789']);
  });

  it('does not take dates, times, amounts or short numbers', () => {
    const text = 'On 2024-03-04 12:30 and 04-03-2024 paid 1,234,567.89 and 12345.6789; 100 200 300 400; v1.2.3.4';
    assert.deepEqual(of('account', text), []);
    assert.deepEqual(of('phone', text), []);
  });

  it('splits two accounts written side by side', () => {
    assert.deepEqual(of('account', 'from 11112222 to 33334444'), ['11112222', '33334444']);
  });
});

describe('extractValues: phone numbers', () => {
  it('finds international, North American and national formats', () => {
    const text = 'Call +44 20 7946 0958, (+1) 555 010 0199, (555) 010-0123, 555.010.0145 or 020 7946 0321.';
    assert.deepEqual(of('phone', text), ['+442079460958', '+15550100199', '5550100123', '5550100145', '02079460321']);
  });

  it('keeps the + of a number written with its country code', () => {
    assert.deepEqual(of('phone', 'tel:+41791234567'), ['+41791234567']);
  });
});

describe('extractValues: handles', () => {
  it('finds @mentions but not addresses or URL paths', () => {
    const text = 'Thanks @quentin_r and @Mirela.K. Mail q@example.com or see https://example.com/@someone';
    assert.deepEqual(of('handle', text), ['quentin_r', 'mirela.k']);
  });

  it('takes a short name under a property that names a party', () => {
    const input = { recipient: 'Quentin', toUser: '@mirela', sender_name: 'Otto Example', to: ['Zed', 'desk@example.com'], title: 'Quarterly' };
    assert.deepEqual(of('handle', input), ['quentin', 'mirela', 'otto example', 'zed']);
  });

  it('takes party lines of YAML, headers and pretty-printed JSON', () => {
    const text = '- body: hello there\n  recipient: lounge\n  sender: Quentin\nFrom: "Mirela"\n  "author": "Zed",\nsubject: Otto';
    assert.deepEqual(of('handle', text), ['lounge', 'quentin', 'mirela', 'zed']);
  });

  it('parses a JSON document held in a string', () => {
    assert.deepEqual(of('handle', { content: [{ type: 'text', text: '{"messages":[{"sender":"Quentin","body":"hi"}]}' }] }), ['quentin']);
  });

  it('does not take placeholders, long text or other kinds of value as names', () => {
    const input = { user: 'null', owner: 'me', to: 'a message far too long to be anyone’s name, with, punctuation', recipient: 'NL09WRDN0417164300', from: 'example.com' };
    assert.deepEqual(of('handle', input), []);
  });

  it('ignores names under other properties and in object keys', () => {
    assert.deepEqual(of('handle', { subject: 'Quentin', Quentin: 'lounge' }), []);
  });
});

describe('extractValues: disguises', () => {
  it('undoes defanging and fullwidth letters', () => {
    const text = 'hxxps://evil[.]example[.]com/x and desk[at]example.org and ｗｗｗ．ｅｘａｍｐｌｅ．ｃｏｍ';
    assert.deepEqual(of('url', text), ['evil.example.com/x']);
    assert.deepEqual(of('email', text), ['desk@example.org']);
    assert.ok(of('domain', text).includes('example.com'));
  });

  it('removes zero-width characters hidden inside a value', () => {
    assert.deepEqual(of('email', 'desk\u200b@exam\u200dple.com'), ['desk@example.com']);
  });
});

describe('extractValues: limits', () => {
  it('returns each value once, in order of first appearance', () => {
    assert.deepEqual(of('email', 'b@example.com a@example.com B@example.com'), ['b@example.com', 'a@example.com']);
  });

  it('stops at the limit', () => {
    const text = Array.from({ length: 100 }, (_, i) => `u${i}@example.com`).join(' ');
    assert.equal(extractValues(text, 10).length, 10);
  });
});
