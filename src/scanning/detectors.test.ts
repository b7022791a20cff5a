import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  ALNUM,
  b64,
  b64url,
  BASE32,
  BASE64,
  BASE64URL,
  breakLastChar,
  checksummed,
  DIGITS,
  HEX,
  jwt,
  LOWER,
  pemKey,
  pick,
  pickMixed,
  UPPER,
} from '../../test/support/fake-secrets.js';
import { DETECTOR_IDS, DETECTORS, SECRET_NAME_SOURCE } from './detectors.js';
import { KeywordIndex } from './keyword-index.js';
import { createScanner } from './scanner.js';

interface Positive {
  readonly text: string;
  /** The part of `text` that must be found and redacted. */
  readonly secret: string;
}

interface Case {
  readonly positives: () => Positive[];
  /** Texts that look close but must not be reported by this detector. */
  readonly nearMisses: () => string[];
  /** What starts a match, repeated and padded into 1 MB adversarial inputs. */
  readonly trigger: string;
}

const hexLD = (n: number): string => {
  for (;;) {
    const s = pick(HEX, n);
    if (/[a-f]/.test(s) && /[0-9]/.test(s)) return s;
  }
};

const at = (text: string, secret: string): Positive => ({ text, secret });

const CASES: Record<string, Case> = {
  'gcp-service-account-key': {
    positives: () => {
      const pem = pemKey('pkcs8');
      const file = { type: 'service_account', project_id: 'demo', private_key_id: pick(HEX, 40), private_key: pem, client_email: 'bot@demo.iam.gserviceaccount.com' };
      return [at(JSON.stringify(file, null, 2), JSON.stringify(pem).slice(1, -1))];
    },
    nearMisses: () => [JSON.stringify({ type: 'authorized_user', private_key: pemKey('pkcs8') }, null, 2)],
    trigger: '"private_key": "-----BEGIN PRIVATE KEY-----\\n',
  },
  'private-key': {
    positives: () => {
      const kinds = ['pkcs8', 'rsa', 'ec', 'encrypted', 'openssh'] as const;
      const out = kinds.map((k) => {
        const pem = pemKey(k);
        return at(`cat ~/.ssh/key\n${pem}\n$ `, pem.trimEnd());
      });
      const pem = pemKey('ec');
      out.push(at(JSON.stringify({ content: pem }), JSON.stringify(pem.trimEnd()).slice(1, -1)));
      // Truncated: a tool that cut the file off still leaks the key's lines.
      const truncated = pem.split('\n').slice(0, 3).join('\n');
      out.push(at(`${truncated}\n[output truncated]`, truncated));
      return out;
    },
    nearMisses: () => [
      `-----BEGIN PUBLIC KEY-----\n${b64(91)}\n-----END PUBLIC KEY-----\n`,
      `-----BEGIN CERTIFICATE-----\n${b64(300).replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`,
      'The file must start with -----BEGIN PRIVATE KEY----- and end with the END line.',
      // A regex that describes a key is not a key.
      '/-----BEGIN PRIVATE KEY-----(?:\\\\[nr]|[A-Za-z0-9+/=]){64,16384}-----END PRIVATE KEY-----/',
    ],
    trigger: '-----BEGIN RSA PRIVATE KEY-----\n',
  },
  'aws-access-key-id': {
    positives: () => [at('', `AKIA${pick(BASE32, 16)}`), at('', `ASIA${pick(BASE32, 16)}`)].map((p) => at(`aws_access_key_id = ${p.secret}\n`, p.secret)),
    nearMisses: () => [`id AKIA${pick(BASE32, 15)} end`, `id akia${pick(BASE32, 16).toLowerCase()} end`],
    trigger: 'AKIA',
  },
  'aws-secret-access-key': {
    positives: () => {
      const s1 = pickMixed(BASE64, 40);
      const s2 = pickMixed(BASE64, 40);
      return [
        at(`[default]\naws_access_key_id = AKIA${pick(BASE32, 16)}\naws_secret_access_key = ${s1}\n`, s1),
        at(JSON.stringify({ Credentials: { AccessKeyId: `ASIA${pick(BASE32, 16)}`, SecretAccessKey: s2, Expiration: '2030-01-01T00:00:00Z' } }), s2),
      ];
    },
    nearMisses: () => [
      `checksum: ${pickMixed(BASE64, 40)}\n`,
      `key AKIA${pick(BASE32, 16)} at commit ${pick(HEX, 40)}`,
      `akia${pick(BASE32, 16).toLowerCase()} then ${pickMixed(BASE64, 40)}`,
    ],
    trigger: 'aws_secret_access_key = ',
  },
  'google-api-key': {
    positives: () => {
      const k = `AIza${pick(BASE64URL, 35)}`;
      return [at(`https://maps.googleapis.com/maps/api/geocode/json?key=${k}&address=x`, k)];
    },
    nearMisses: () => [`key=AIza${pick(ALNUM, 34)} end`],
    trigger: 'AIza',
  },
  'google-oauth-client-secret': {
    positives: () => {
      const k = `GOCSPX-${pick(BASE64URL, 28)}`;
      return [at(`{"client_id":"x.apps.googleusercontent.com","client_secret":"${k}"}`, k)];
    },
    nearMisses: () => [`GOCSPX-${pick(ALNUM, 27)} `],
    trigger: 'GOCSPX-',
  },
  'azure-storage-key': {
    positives: () => {
      const k = b64(64);
      const sb = b64(32);
      return [
        at(`DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=${k};EndpointSuffix=core.windows.net`, k),
        at(`Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=root;SharedAccessKey=${sb}`, sb),
      ];
    },
    nearMisses: () => [`AccountName=acct;AccountKey=${b64(20)};`],
    trigger: 'AccountKey=',
  },
  'azure-sas-signature': {
    positives: () => {
      const sig = encodeURIComponent(b64(32));
      return [at(`https://acct.blob.core.windows.net/c/b.txt?sv=2022-11-02&sp=r&se=2030-01-01T00%3A00%3A00Z&sig=${sig}`, sig)];
    },
    nearMisses: () => [
      `https://acct.blob.core.windows.net/c/b.txt?sv=2022-11-02&sig=${encodeURIComponent(b64(16))}`,
      `https://example.com/download?sig=${encodeURIComponent(b64(32))}`,
    ],
    trigger: '?sv=1&sig=',
  },
  'github-token': {
    positives: () => ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_'].map((p) => checksummed(p)).map((t) => at(`GITHUB_TOKEN=${t}\n`, t)),
    nearMisses: () => [`token ${breakLastChar(checksummed('ghp_'))} end`, `ghp_${pick(ALNUM, 35)}`],
    trigger: 'ghp_',
  },
  'github-fine-grained-token': {
    positives: () => {
      const t = `github_pat_${pick(ALNUM, 22)}_${pick(ALNUM, 59)}`;
      return [at(`Authorization header uses ${t}.`, t)];
    },
    nearMisses: () => [`github_pat_${pick(ALNUM, 21)}_${pick(ALNUM, 59)}`],
    trigger: 'github_pat_',
  },
  'gitlab-token': {
    positives: () => {
      const t = `glpat-${pick(ALNUM, 20)}`;
      return [at(`PRIVATE-TOKEN: ${t}\n`, t)];
    },
    nearMisses: () => [`glpat-${pick(ALNUM, 19)} `, 'glpat-aaaaaaaaaaaaaaaaaaaaaaaa'],
    trigger: 'glpat-',
  },
  'slack-token': {
    positives: () => {
      const bot = `xoxb-${pick(DIGITS, 12)}-${pick(DIGITS, 13)}-${pick(ALNUM, 24)}`;
      const user = `xoxp-${pick(DIGITS, 12)}-${pick(DIGITS, 12)}-${pick(DIGITS, 13)}-${pick(HEX, 32)}`;
      return [at(`SLACK_BOT_TOKEN=${bot}`, bot), at(`{"token":"${user}"}`, user)];
    },
    nearMisses: () => [`xoxb-notatoken-${pick(ALNUM, 10)}`, `xoxz-${pick(DIGITS, 12)}-${pick(ALNUM, 24)}`],
    trigger: 'xoxb-',
  },
  'slack-webhook-url': {
    positives: () => {
      const path = `services/T${pick(UPPER + DIGITS, 10)}/B${pick(UPPER + DIGITS, 10)}/${pick(ALNUM, 24)}`;
      return [at(`curl -X POST https://hooks.slack.com/${path} -d @msg.json`, path)];
    },
    nearMisses: () => ['See https://hooks.slack.com/services/T0123 for the docs'],
    trigger: 'hooks.slack.com/services/',
  },
  'stripe-key': {
    positives: () => ['sk_live_', 'rk_live_', 'sk_test_'].map((p) => `${p}${pick(ALNUM, 24)}`).map((k) => at(`stripe.api_key = "${k}"`, k)),
    nearMisses: () => [`pk_live_${pick(ALNUM, 24)}`, `sk_live_${pick(ALNUM, 10)}`],
    trigger: 'sk_live_',
  },
  'anthropic-api-key': {
    positives: () => {
      const k = `sk-ant-api03-${pick(BASE64URL, 93)}AA`;
      return [at(`ANTHROPIC_API_KEY=${k}\n`, k)];
    },
    nearMisses: () => [`sk-ant-api03-${pick(ALNUM, 20)}`],
    trigger: 'sk-ant-api03-',
  },
  'openai-api-key': {
    positives: () => {
      const proj = `sk-proj-${pick(BASE64URL, 74)}T3BlbkFJ${pick(BASE64URL, 74)}`;
      const legacy = `sk-${pick(ALNUM, 20)}T3BlbkFJ${pick(ALNUM, 20)}`;
      return [at(`OPENAI_API_KEY=${proj}\n`, proj), at(`openai.api_key = '${legacy}'`, legacy)];
    },
    nearMisses: () => [`sk-${pick(ALNUM, 48)}`, `sk-proj-${pick(ALNUM, 20)}`],
    trigger: 'sk-proj-',
  },
  'twilio-api-key': {
    positives: () => {
      const k = `SK${hexLD(32)}`;
      return [at(`TWILIO_API_KEY=${k}`, k)];
    },
    nearMisses: () => [`SK${pick(DIGITS, 32)}`, `SK${pick(HEX, 31)} `],
    trigger: 'SK',
  },
  'sendgrid-api-key': {
    positives: () => {
      const k = `SG.${pick(BASE64URL, 22)}.${pick(BASE64URL, 43)}`;
      return [at(`SENDGRID_API_KEY="${k}"`, k)];
    },
    nearMisses: () => [`SG.${pick(ALNUM, 22)}.${pick(ALNUM, 42)} `],
    trigger: 'SG.',
  },
  'npm-token': {
    positives: () => {
      const t = checksummed('npm_');
      return [at(`//registry.npmjs.org/:_authToken=${t}\n`, t)];
    },
    nearMisses: () => [`//registry.npmjs.org/:_authToken=${breakLastChar(checksummed('npm_'))}\n`],
    trigger: 'npm_',
  },
  'pypi-token': {
    positives: () => {
      const t = `pypi-AgEIcHlwaS5vcmc${b64url(60)}`;
      return [at(`[pypi]\nusername = __token__\npassword = ${t}\n`, t)];
    },
    nearMisses: () => [`pypi-${b64url(60)}`],
    trigger: 'pypi-AgEIcHlwaS5vcmc',
  },
  'huggingface-token': {
    positives: () => {
      const t = `hf_${pickMixed(UPPER + LOWER, 34)}`;
      return [at(`HF_TOKEN=${t}`, t)];
    },
    nearMisses: () => [`hf_${pick(LOWER, 34)}`, `hf_${pickMixed(UPPER + LOWER, 33)} `],
    trigger: 'hf_',
  },
  'shopify-token': {
    positives: () => {
      const t = `shpat_${pick(HEX, 32)}`;
      return [at(`X-Shopify-Access-Token: ${t}`, t)];
    },
    nearMisses: () => [`shpat_${pick('ghijklmnop', 32)}`],
    trigger: 'shpat_',
  },
  'datadog-key': {
    positives: () => {
      const api = hexLD(32);
      const app = hexLD(40);
      return [at(`DD_API_KEY=${api}\n`, api), at(`datadog_app_key: "${app}"`, app)];
    },
    nearMisses: () => [`DD_API_KEY=${pick(HEX, 31)}\n`],
    trigger: 'DD_API_KEY=',
  },
  'digitalocean-token': {
    positives: () => {
      const t = `dop_v1_${pick(HEX, 64)}`;
      return [at(`DIGITALOCEAN_TOKEN=${t}`, t)];
    },
    nearMisses: () => [`dop_v1_${pick(HEX, 63)} `],
    trigger: 'dop_v1_',
  },
  'hashicorp-vault-token': {
    positives: () => {
      const t = `hvs.${pick(BASE64URL, 90)}`;
      return [at(`X-Vault-Token: ${t}`, t)];
    },
    nearMisses: () => [`hvs.${pick(ALNUM, 10)} `],
    trigger: 'hvs.',
  },
  'databricks-token': {
    positives: () => {
      const t = `dapi${hexLD(32)}`;
      return [at(`DATABRICKS_TOKEN=${t}`, t)];
    },
    nearMisses: () => [`dapi${pick(HEX, 31)} `],
    trigger: 'dapi',
  },
  'warden-api-key': {
    positives: () => {
      const k = `wdn_key_${pick(LOWER + DIGITS, 26)}.${b64url(32)}`;
      return [at(`export WARDEN_ADMIN_KEY=${k}`, k)];
    },
    nearMisses: () => [`wdn_key_${pick(LOWER + DIGITS, 26)}.${b64url(32).slice(0, 42)} `],
    trigger: 'wdn_key_',
  },
  jwt: {
    positives: () => {
      const t = jwt();
      return [at(`{"id_token":"${t}"}`, t)];
    },
    nearMisses: () => [`eyJ${pick(BASE64URL, 30)}.${pick(BASE64URL, 40)}.${pick(BASE64URL, 40)}`],
    trigger: 'eyJ',
  },
  'authorization-header': {
    positives: () => {
      const bearer = b64url(32);
      const basic = Buffer.from(`deploy:${pickMixed(ALNUM, 20)}`).toString('base64');
      return [at(`GET / HTTP/1.1\nAuthorization: Bearer ${bearer}\n`, bearer), at(`{"headers":{"authorization":"Basic ${basic}"}}`, basic)];
    },
    nearMisses: () => ['Authorization: Bearer <token>', 'Authorization: Bearer ${TOKEN}', 'authorization: bearer xxxxxxxxxxxxxxxx'],
    trigger: 'Authorization: Bearer ',
  },
  'url-password': {
    positives: () => {
      const pw = pickMixed(ALNUM, 20);
      const pw2 = `${pickMixed(ALNUM, 12)}%40${pick(DIGITS, 4)}`;
      return [at(`DATABASE_URL=postgres://app:${pw}@db.internal:5432/app`, pw), at(`"url": "https://deploy:${pw2}@git.example.com/repo.git"`, pw2)];
    },
    nearMisses: () => ['https://example.com:8443/path?x=1', 'redis://:${REDIS_PASSWORD}@cache:6379', 'ftp://anonymous:****@ftp.example.com', 'mailto:someone@example.com'],
    trigger: 'a://b:',
  },
  'generic-secret-assignment': {
    positives: () => {
      const a = pickMixed(ALNUM, 24, true);
      const b = pickMixed(ALNUM + '!#%&', 22, true);
      const c = pickMixed(ALNUM, 32, true);
      return [at(`DB_PASSWORD=${a}\n`, a), at(`{"client_secret": "${b}"}`, b), at(`api_key: ${c}\n`, c)];
    },
    nearMisses: () => ['DB_PASSWORD=changeme\n', 'secret_name: prod-db-credentials-2024\n', 'password_policy=strict\n', 'password: ${DB_PASSWORD}\n', 'api_key: /etc/keys/api.key\n'],
    trigger: 'password=',
  },
};

const scanner = createScanner();
const only = (id: string) => createScanner({ disabled: DETECTOR_IDS.filter((d) => d !== id) });

describe('detectors', () => {
  it('has a test case for every detector, and no case for a detector that does not exist', () => {
    assert.deepEqual(Object.keys(CASES).sort(), [...DETECTOR_IDS].sort());
  });

  it('is documented: every detector has a row in docs/scanning.md, and no row names a missing one', () => {
    // dist/src/scanning/ → repository root.
    const doc = readFileSync(new URL('../../../docs/scanning.md', import.meta.url), 'utf8');
    const rows = [...doc.matchAll(/^\| `([a-z0-9-]+)` \| (high|medium|low) \|/gm)].map((m) => `${m[1]} ${m[2]}`);
    assert.deepEqual(rows, DETECTORS.map((d) => `${d.id} ${d.confidence}`));
  });

  it("keeps generic-secret-assignment's keywords in step with its secret names: each name holds one", () => {
    const keywords = DETECTORS.find((d) => d.id === 'generic-secret-assignment')!.keywords!;
    for (const name of SECRET_NAME_SOURCE.split('|')) {
      // The shortest spelling of the alternative: optional parts left out.
      const shortest = name.replace(/\[[^\]]*\]\?/g, '').replace(/.\?/g, '');
      assert.ok(keywords.some((k) => shortest.includes(k)), `${name} holds none of ${keywords.join(', ')}`);
    }
  });

  it('bounds every quantifier: no *, + or {n,} outside character classes', () => {
    for (const d of DETECTORS) {
      const bare = d.regex.source.replace(/\\./g, '').replace(/\[[^\]]*\]/g, '');
      assert.doesNotMatch(bare, /[*+]|\{\d+,\}/, d.id);
    }
  });

  for (const [id, c] of Object.entries(CASES)) {
    describe(id, () => {
      it('finds the credential in context and redacts exactly it', () => {
        for (const { text, secret } of c.positives()) {
          const r = scanner.scanText(text);
          const at = text.indexOf(secret);
          assert.ok(at >= 0, 'test case: the secret is in the text');
          const f = r.findings.find((x) => x.detector === id && x.start <= at && x.end >= at + secret.length);
          assert.ok(f, `${id} not found; found: ${r.findings.map((x) => x.detector).join(', ') || 'nothing'}`);
          assert.ok(!r.redacted.includes(secret), 'the redacted text still holds the secret');
          assert.ok(r.redacted.includes(`[REDACTED:${id}]`));
        }
      });

      it('lets its regex run on every text it matches (its keywords are in each)', () => {
        const d = DETECTORS.find((x) => x.id === id)!;
        const index = new KeywordIndex([d]);
        const texts = [...c.positives().map((p) => p.text), ...c.nearMisses(), c.trigger];
        for (const text of texts) {
          d.regex.lastIndex = 0;
          const matches = d.regex.test(text);
          d.regex.lastIndex = 0;
          if (matches) assert.equal(index.mayMatch(text)[0], 1, `${id}: its regex matches ${JSON.stringify(text.slice(0, 80))} but its keywords are not there`);
        }
        for (const { text } of c.positives()) assert.equal(index.mayMatch(text)[0], 1, `${id}: a positive without a keyword`);
      });

      it('ignores a near miss', () => {
        for (const text of c.nearMisses()) {
          const hits = scanner.scanText(text).findings.filter((f) => f.detector === id);
          assert.deepEqual(hits, [], `${id} fired on a near miss`);
        }
      });

      it('stays fast on 1 MB adversarial inputs', () => {
        const s = only(id);
        const MB = 1 << 20;
        const inputs = [
          'a'.repeat(MB),
          c.trigger.repeat(Math.ceil(MB / c.trigger.length)),
          c.trigger + 'A'.repeat(MB),
          c.trigger + 'a1_-'.repeat(MB / 4),
          `${c.trigger}x `.repeat(Math.ceil(MB / (c.trigger.length + 2))),
        ];
        for (const input of inputs) {
          const t0 = performance.now();
          s.scanText(input);
          const ms = performance.now() - t0;
          // Catastrophic backtracking takes minutes here; a linear scan takes milliseconds.
          assert.ok(ms < 1500, `${id}: ${ms.toFixed(0)} ms on ${JSON.stringify(input.slice(0, 40))}…`);
        }
      });
    });
  }
});
