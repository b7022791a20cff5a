import {
  base64ByteLength,
  hasLetterAndDigit,
  hasMixedCase,
  isJwtHeader,
  isPlaceholder,
  looksLikeSecretValue,
  nearby,
  percentDecode,
  prefixedTokenChecksumOk,
  shannonEntropy,
} from './validators.js';
import { keywordProblem } from './keyword-index.js';

/** Where a candidate sits, for validators that look at its surroundings. */
export interface MatchContext {
  readonly text: string;
  /** UTF-16 offsets of the candidate (the `secret` group when the regex has one). */
  readonly start: number;
  readonly end: number;
}

/**
 * One credential format. Sources: the gitleaks rule set, Yelp's detect-secrets plugins and
 * GitHub's secret-scanning pattern list, each re-derived from the vendor's published format.
 *
 * Rules every regex here follows, so that a hostile 1 MB response cannot stall the gateway:
 * - global (`g`); with a named group `secret` also `d`, and only that group is reported;
 * - every quantifier is bounded by the longest real credential of the format;
 * - the token alphabet is fenced by look-arounds on that same alphabet (`\b` where the
 *   alphabet is word characters), so inside a long run of token characters only the first
 *   position can start a match: `glpat-glpat-…` costs one scan, not one per repetition;
 * - no quantified group whose body can match what follows it (no nested ambiguity).
 */
export interface Detector {
  /** Stable, kebab-case; appears in findings, `[REDACTED:<id>]` and `disabled` config. */
  readonly id: string;
  readonly description: string;
  /**
   * `high`: the format alone identifies the credential (a vendor prefix, a checksum).
   * `medium`: a known format in a known context (a header, a connection string field).
   * `low`: a guess from a secret-sounding name and a random-looking value.
   */
  readonly confidence: 'high' | 'medium' | 'low';
  readonly regex: RegExp;
  /**
   * Literals one of which must occur in any text the regex matches: the regex runs only when one
   * does (found for all detectors in one pass, keyword-index.ts). Most of a tool result holds
   * none of them, and one scan per detector of every string is most of what scanning costs.
   * Case-sensitive, except for a case-insensitive regex: then they are lower-case and matched
   * against the text's ASCII letters in either case. A keyword that a match can lack would hide
   * that match: every positive test case is checked against them.
   */
  readonly keywords?: readonly string[];
  /** Second check on a candidate; false drops it (see validators.ts). */
  readonly validate?: (candidate: string, ctx: MatchContext) => boolean;
}


// Around `=` and `:` only spaces and tabs count: a line end there means the name belongs to a
// section (`credentials:` then an indented block), not to the next line's text.
//
// The names under which configuration files and APIs keep secrets. The name must END with one
// of them (DB_PASSWORD, clientSecret, aws_secret_access_key): secret_name, password_policy or
// credentials_path name something else. JSON members reach the detectors as `name: value`
// lines (value-layout.ts), so `{"password": "…"}` is judged like `password=…`.
export const SECRET_NAME_SOURCE =
  'password|passwd|passphrase|secret|api[_.-]?key|apikey|access[_.-]?key|access[_.-]?token|auth[_.-]?token|refresh[_.-]?token|client[_.-]?secret|private[_.-]?key|credentials?';

const AWS_KEY_ID = /(?:AKIA|ASIA)[A-Z2-7]{16}/;
const AWS_SECRET_NAME = /aws.{0,24}secret|secret.?access.?key/i;

const define = (d: Detector): Detector => {
  const wantsGroup = d.regex.source.includes('(?<secret>');
  if (!d.regex.global || wantsGroup !== d.regex.hasIndices) throw new TypeError(`detector ${d.id}: regex flags do not fit its groups`);
  const problem = keywordProblem(d);
  if (problem) throw new TypeError(`detector ${d.id}: ${problem}`);
  return d;
};

/**
 * The built-in detectors. Order is priority: when findings of several detectors overlap, the
 * merged finding is named after the earliest here (specific formats first, guesses last).
 */
export const DETECTORS: readonly Detector[] = [
  define({
    id: 'gcp-service-account-key',
    description: 'Google Cloud service-account key file: its "private_key" member',
    confidence: 'high',
    regex:
      /"private_key"\s{0,8}:\s{0,8}"(?<secret>-----BEGIN PRIVATE KEY-----(?:\\[nr]|[A-Za-z0-9+/=]){64,16384}-----END PRIVATE KEY-----(?:\\n)?)"/dg,
    keywords: ['"private_key"'],
    validate: (_, ctx) => nearby(ctx.text, ctx.start, ctx.end, 8192, /service_account|\.iam\.gserviceaccount\.com/),
  }),
  define({
    id: 'private-key',
    description: 'PEM private key block: PKCS#8, RSA, EC, DSA, OpenSSH, encrypted, PGP',
    confidence: 'high',
    // Two ways out of the body: up to the END line (base64 lines, armor headers such as
    // `Proc-Type: 4,ENCRYPTED` or `Comment: …`, JSON `\n` escapes — but never `--`), or, for
    // a truncated key with no END in reach, its base64 lines alone. Neither body can cross
    // `--`, so repeated BEGIN lines each scan only up to the next one.
    regex:
      /-----BEGIN[ A-Z0-9]{0,40} PRIVATE KEY(?: BLOCK)?-----(?:(?:[\w+/=\s\\:,.()@]|-(?!-)){16,65536}-----END[ A-Z0-9]{0,40} PRIVATE KEY(?: BLOCK)?-----|[A-Za-z0-9+/=\s\\]{64,65536})/g,
    keywords: ['PRIVATE KEY'],
  }),
  define({
    id: 'aws-access-key-id',
    keywords: ['AKIA', 'ASIA'],
    description: 'AWS access key id (long-term AKIA, temporary ASIA)',
    confidence: 'high',
    regex: /\b(?:AKIA|ASIA)[A-Z2-7]{16}\b/g,
  }),
  define({
    id: 'aws-secret-access-key',
    keywords: ['secret', 'akia', 'asia'],
    description: 'AWS secret access key: 40 base64 characters under an AWS secret name or after a key id',
    confidence: 'medium',
    // Led by its context so the search can start from a literal: an AWS secret name
    // (aws_secret_access_key =, "SecretAccessKey": …), or an access key id up to 256
    // characters before (a credentials CSV, an STS answer listing AccessKeyId first).
    regex:
      /(?:(?:aws.{0,24}secret|secret.?access.?key)[\w.-]{0,20}["']?[ \t]{0,5}(?:=|:|=>|,)[ \t]{0,5}["']?|(?:AKIA|ASIA)[A-Z2-7]{16}[^]{1,256}?)(?<![A-Za-z0-9/+])(?<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/dgi,
    // The `i` the name needs also loosens the key id (Node 20 has no inline `(?i:)`), so the
    // key id is confirmed case-sensitively here.
    validate: (s, ctx) =>
      hasMixedCase(s) &&
      shannonEntropy(s) >= 3.5 &&
      (AWS_SECRET_NAME.test(ctx.text.slice(Math.max(0, ctx.start - 80), ctx.start)) ||
        AWS_KEY_ID.test(ctx.text.slice(Math.max(0, ctx.start - 300), ctx.start))),
  }),
  define({
    id: 'google-api-key',
    keywords: ['AIza'],
    description: 'Google API key (AIza…)',
    confidence: 'high',
    regex: /(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g,
  }),
  define({
    id: 'google-oauth-client-secret',
    keywords: ['GOCSPX-'],
    description: 'Google OAuth client secret (GOCSPX-…)',
    confidence: 'high',
    regex: /(?<![A-Za-z0-9_-])GOCSPX-[0-9A-Za-z_-]{28}(?![0-9A-Za-z_-])/g,
  }),
  define({
    id: 'azure-storage-key',
    description: 'Azure storage account key or Service Bus / Event Hubs shared access key in a connection string',
    confidence: 'high',
    regex: /(?<![A-Za-z])(?:AccountKey|SharedAccessKey)=(?<secret>[A-Za-z0-9+/]{86}==|[A-Za-z0-9+/]{43}=)/dg,
    keywords: ['AccountKey=', 'SharedAccessKey='],
    validate: (s) => [32, 64].includes(base64ByteLength(s)) && shannonEntropy(s) >= 4,
  }),
  define({
    id: 'azure-sas-signature',
    description: 'Azure shared access signature: the sig parameter of a SAS URL or token',
    confidence: 'high',
    // sig is the URL-encoded base64 of an HMAC-SHA256: 43 characters and one `=`.
    regex: /[?&;]sig=(?<secret>(?:[A-Za-z0-9]|%2[BbFf]|[+/]){43}(?:%3[Dd]|=))/dg,
    keywords: ['sig='],
    validate: (s, ctx) => {
      const raw = percentDecode(s);
      return raw !== null && base64ByteLength(raw) === 32 && nearby(ctx.text, ctx.start, ctx.end, 512, /[?&;]s[vepr]=/);
    },
  }),
  define({
    id: 'github-token',
    keywords: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_'],
    description: 'GitHub token: personal (ghp_), OAuth (gho_), user-to-server (ghu_), server-to-server (ghs_), refresh (ghr_)',
    confidence: 'high',
    regex: /\bgh[pousr]_[A-Za-z0-9]{36}\b/g,
    validate: prefixedTokenChecksumOk,
  }),
  define({
    id: 'github-fine-grained-token',
    keywords: ['github_pat_'],
    description: 'GitHub fine-grained personal access token (github_pat_…)',
    confidence: 'high',
    regex: /\bgithub_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}\b/g,
  }),
  define({
    id: 'gitlab-token',
    keywords: ['glpat-', 'gldt-', 'glrt-', 'glptt-'],
    description: 'GitLab token: personal (glpat-), deploy (gldt-), runner (glrt-), pipeline trigger (glptt-)',
    confidence: 'high',
    regex: /(?<![A-Za-z0-9_-])gl(?:pat|dt|rt|ptt)-[A-Za-z0-9_-]{20,300}(?:\.[A-Za-z0-9_-]{2,40}){0,2}(?![A-Za-z0-9_-])/g,
    validate: (s) => shannonEntropy(s) >= 3,
  }),
  define({
    id: 'slack-token',
    keywords: ['xox', 'xapp-'],
    description: 'Slack token: bot, user, app, config and refresh tokens (xoxb-, xoxp-, xapp-, …)',
    confidence: 'high',
    regex: /(?<![A-Za-z0-9_-])(?:xox[abposr]-[0-9]{6,16}-[A-Za-z0-9-]{8,250}|xapp-[0-9]-[A-Za-z0-9-]{20,250})(?![A-Za-z0-9-])/g,
  }),
  define({
    id: 'slack-webhook-url',
    keywords: ['hooks.slack.com/'],
    description: 'Slack incoming-webhook or workflow URL (the path is the credential)',
    confidence: 'high',
    regex: /\bhooks\.slack\.com\/(?<secret>(?:services|workflows|triggers)\/[A-Za-z0-9_/+-]{20,200})(?![A-Za-z0-9_/+-])/dg,
  }),
  define({
    id: 'stripe-key',
    keywords: ['k_live_', 'k_test_'],
    description: 'Stripe secret or restricted API key, live or test mode',
    confidence: 'high',
    regex: /\b[rs]k_(?:live|test)_[A-Za-z0-9]{20,247}\b/g,
  }),
  define({
    id: 'anthropic-api-key',
    keywords: ['sk-ant-'],
    description: 'Anthropic API, admin or OAuth key (sk-ant-…)',
    confidence: 'high',
    regex: /(?<![A-Za-z0-9_-])sk-ant-(?:api|admin|oat|ort|sid)[0-9]{2}-[A-Za-z0-9_-]{32,200}(?![A-Za-z0-9_-])/g,
  }),
  define({
    id: 'openai-api-key',
    keywords: ['sk-'],
    description: 'OpenAI API key: project, service-account, admin (sk-proj-, sk-svcacct-, sk-admin-) or legacy with its T3BlbkFJ marker',
    confidence: 'high',
    regex: /(?<![A-Za-z0-9_-])sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,250}|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20})(?![A-Za-z0-9_-])/g,
    validate: (s) => shannonEntropy(s) >= 3.5,
  }),
  define({
    id: 'twilio-api-key',
    keywords: ['SK'],
    description: 'Twilio API key SID (SK…); its secret travels with it',
    confidence: 'medium',
    regex: /\bSK[0-9a-fA-F]{32}\b/g,
    validate: (s) => hasLetterAndDigit(s.slice(2)),
  }),
  define({
    id: 'sendgrid-api-key',
    keywords: ['SG.'],
    description: 'SendGrid API key (SG.<id>.<secret>)',
    confidence: 'high',
    regex: /(?<![A-Za-z0-9_-])SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g,
  }),
  define({
    id: 'npm-token',
    keywords: ['npm_'],
    description: 'npm access token (npm_…), checksum verified',
    confidence: 'high',
    regex: /\bnpm_[A-Za-z0-9]{36}\b/g,
    validate: prefixedTokenChecksumOk,
  }),
  define({
    id: 'pypi-token',
    keywords: ['pypi-'],
    description: 'PyPI or TestPyPI API token (a macaroon naming pypi.org)',
    confidence: 'high',
    // The fixed part is base64 of the macaroon's location: "pypi.org" or "test.pypi.org".
    regex: /(?<![A-Za-z0-9_-])pypi-(?:AgEIcHlwaS5vcmc|AgENdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{50,1000}(?![A-Za-z0-9_-])/g,
  }),
  define({
    id: 'huggingface-token',
    keywords: ['hf_', 'api_org_'],
    description: 'Hugging Face user or organization token (hf_…, api_org_…)',
    confidence: 'high',
    regex: /\b(?:hf|api_org)_[A-Za-z]{34}\b/g,
    validate: (s) => hasMixedCase(s.slice(s.lastIndexOf('_') + 1)),
  }),
  define({
    id: 'shopify-token',
    keywords: ['shpat_', 'shpca_', 'shppa_', 'shpss_'],
    description: 'Shopify access token, custom-app, private-app token or shared secret (shpat_, shpca_, shppa_, shpss_)',
    confidence: 'high',
    regex: /\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b/g,
  }),
  define({
    id: 'datadog-key',
    keywords: ['datadog', 'dd'],
    description: 'Datadog API or application key under a Datadog key name',
    confidence: 'medium',
    regex: /\b(?:datadog|dd)[_-]?(?:api|app|application)[_-]?key["']?[ \t]{0,5}[:=][ \t]{0,5}["']?(?<secret>[a-f0-9]{40}|[a-f0-9]{32})(?![a-z0-9])/dgi,
    validate: (s) => hasLetterAndDigit(s),
  }),
  define({
    id: 'digitalocean-token',
    keywords: ['_v1_'],
    description: 'DigitalOcean personal, OAuth or refresh token (dop_v1_, doo_v1_, dor_v1_)',
    confidence: 'high',
    regex: /\bdo[opr]_v1_[a-f0-9]{64}\b/g,
  }),
  define({
    id: 'hashicorp-vault-token',
    keywords: ['hvs.', 'hvb.', 'hvr.'],
    description: 'HashiCorp Vault service, batch or recovery token (hvs., hvb., hvr.)',
    confidence: 'high',
    regex: /(?<![A-Za-z0-9_-])hv[sbr]\.[A-Za-z0-9_-]{24,250}(?![A-Za-z0-9_-])/g,
    validate: (s) => shannonEntropy(s) >= 3.5,
  }),
  define({
    id: 'databricks-token',
    keywords: ['dapi'],
    description: 'Databricks personal access token (dapi…)',
    confidence: 'high',
    regex: /\bdapi[a-f0-9]{32}(?:-[0-9])?\b/g,
    validate: (s) => hasLetterAndDigit(s.slice(4)),
  }),
  define({
    id: 'warden-api-key',
    keywords: ['wdn_key_'],
    description: "Warden's own person API key (wdn_key_…)",
    confidence: 'high',
    regex: /(?<![A-Za-z0-9_-])wdn_key_[0-9a-z]{20,40}\.[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g,
  }),
  define({
    id: 'jwt',
    keywords: ['eyJ'],
    description: 'JSON Web Token (JWS or JWE compact form) whose header decodes to JSON with "alg"',
    confidence: 'medium',
    regex:
      /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,4096}\.[A-Za-z0-9_-]{8,65536}\.[A-Za-z0-9_-]{0,8192}(?:\.[A-Za-z0-9_-]{1,65536}\.[A-Za-z0-9_-]{1,8192})?(?![A-Za-z0-9_-])/g,
    validate: (s) => isJwtHeader(s.slice(0, s.indexOf('.'))),
  }),
  define({
    id: 'authorization-header',
    keywords: ['authorization'],
    description: 'Credential in an Authorization header echoed into text (Bearer, Basic, Token, DPoP)',
    confidence: 'medium',
    regex:
      /\bauthorization["']?[ \t]{0,5}[:=][ \t]{0,5}["']?(?:bearer|basic|token|dpop)[ \t]{1,5}(?<secret>[A-Za-z0-9._~+/=-]{8,8192})/dgi,
    validate: (s) => looksLikeSecretValue(s, 8192),
  }),
  define({
    id: 'url-password',
    keywords: ['://'],
    description: 'Password embedded in a URL (scheme://user:password@host)',
    confidence: 'medium',
    // Led by the literal `://`, checked for a scheme character behind it only afterwards: a
    // look-behind first would stop V8 from searching for the literal (10× slower). The user
    // part cannot hold `:` and the password cannot hold `@`, so each split is forced.
    regex: /:\/\/(?<=[A-Za-z0-9]:\/\/)[^\s:/?#@"'<>\\]{0,256}:(?<secret>[^\s/?#@"'<>\\]{1,256})@(?=[A-Za-z0-9[])/dg,
    // RFC 2606 reserves example.com/.net/.org for documentation: their URLs are samples.
    validate: (s, ctx) => !isPlaceholder(s) && !/^example\.(?:com|net|org)\b/i.test(ctx.text.slice(ctx.end + 1, ctx.end + 13)),
  }),
  define({
    id: 'generic-secret-assignment',
    keywords: ['pass', 'secret', 'api', 'access', 'auth', 'refresh', 'client', 'private', 'credential'],
    description: 'A random-looking value assigned to a secret-sounding name (password=, api_key:, …); lower confidence',
    confidence: 'low',
    regex: new RegExp(
      `(?:${SECRET_NAME_SOURCE})["']?[ \\t]{0,5}(?:=|:=|:|=>)[ \\t]{0,5}["']?(?<secret>[^\\s"'\`,;<>{}()\\[\\]]{8,200})`,
      'dgi',
    ),
    validate: (s) => looksLikeSecretValue(s),
  }),
];

/** Ids of the built-in detectors, for config validation. */
export const DETECTOR_IDS: readonly string[] = DETECTORS.map((d) => d.id);
