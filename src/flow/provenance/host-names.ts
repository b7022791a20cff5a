/**
 * When a dotted word in prose is a host name. A URL's host is whatever the URL parser accepts;
 * a bare `word.word` needs more evidence, because prose and code are full of dotted words that
 * are not hosts: file names (`report.pdf`), abbreviations (`e.g.`), versions (`1.2.3`),
 * decimals, member chains (`obj.getValue`), sentences missing a space (`end.Next`).
 */

// File extensions that are far more often a file name than a top-level domain. A few are real
// TLDs too (`.zip`, `.mov`, `.sh`, `.py`, `.md`): a bare `name.zip` is still read as a file;
// written as a URL with a scheme, such a host is tracked all the same.
const FILE_EXTENSIONS = new Set(
  (
    'txt text json jsonl ndjson yaml yml xml html htm xhtml csv tsv pdf doc docx xls xlsx ppt pptx odt ods odp rtf ' +
    'md markdown rst tex log ini cfg conf config toml lock env tmp bak old swp orig diff patch ' +
    'png jpg jpeg gif svg webp bmp ico tif tiff heic psd eps raw ' +
    'mp3 mp4 m4a wav flac ogg avi mov mkv webm wmv ' +
    'zip tar tgz gz bz2 xz zst rar 7z exe dll bin iso img dmg apk ipa deb rpm msi pkg jar war ear whl egg ' +
    'class java js mjs cjs ts mts cts tsx jsx py pyc pyi ipynb rb php pl pm go rs c h cpp hpp cxx hxx cs fs vb ' +
    'swift kt kts scala clj groovy lua r dart elm ex exs erl hs ml mli nim zig sol asm s ' +
    'sh bash zsh fish ps1 psm1 bat cmd sql db sqlite sqlite3 dump css scss sass less styl vue svelte astro map wasm ' +
    'pem key crt cer der csr p12 pfx jks gpg asc sig eml msg mbox ics vcf epub mobi ttf otf woff woff2 eot ' +
    'dat out pkl pickle npy npz h5 parquet avro orc proto gradle sln csproj plist xsd xsl dtd tpl tmpl mustache hbs ejs erb'
  ).split(' '),
);

// Generic TLDs common enough to accept on a bare host without further evidence. Two-letter
// TLDs are country codes and all accepted; a longer TLD outside this list needs `www.` or a
// path after it (`www.example.store`, `example.store/offers`) to count. That keeps member
// chains such as `user.name` or `this.store` out: words that are also TLDs stay off the list.
const COMMON_TLDS = new Set(
  (
    'com net org edu gov mil int info biz pro aero coop museum mobi jobs travel tel asia ' +
    'app dev site website online shop tech blog cloud news xyz icu vip digital studio academy ' +
    'school college university education software wiki bank finance insurance global'
  ).split(' '),
);

/** Whether `host` (already lower-cased or not) has the shape of a DNS name with a plausible TLD. */
export function isHostName(host: string): boolean {
  if (host.length < 4 || host.length > 253) return false;
  const labels = host.split('.');
  if (labels.length < 2) return false;
  for (const label of labels) {
    if (label.length === 0 || label.length > 63) return false;
    if (!/^[A-Za-z0-9-]+$/.test(label) || label.startsWith('-') || label.endsWith('-')) return false;
  }
  const tld = labels[labels.length - 1]!;
  return /^[A-Za-z]{2,24}$/.test(tld) || /^xn--[A-Za-z0-9-]{1,59}$/i.test(tld);
}

/**
 * Whether the host of an address found in prose is one: a host name whose TLD is all lower or
 * all upper case, so `desk@example.com.Next` (a sentence missing its space) is not read whole.
 */
export function isAddressHost(host: string): boolean {
  if (!isHostName(host)) return false;
  const tld = host.slice(host.lastIndexOf('.') + 1);
  return tld === tld.toLowerCase() || tld === tld.toUpperCase();
}

/**
 * Whether a dotted word found in prose, outside any URL, is a host name.
 *
 * @param host the dotted word, trailing dots removed
 * @param hasPath whether a `/path` follows it, which only a host would have
 */
export function isBareHostName(host: string, hasPath: boolean): boolean {
  // Domains are written all lower-case, all upper-case or with a capital first label
  // (`Example.com`); `end.Next` and `Mr.Smith` are sentences without a space.
  if (!isAddressHost(host)) return false;
  const labels = host.split('.');
  const tld = labels[labels.length - 1]!;
  // A camelCase label is an identifier in code (`window.localStorage`), not a DNS label.
  if (labels.some((l) => /[a-z][A-Z]/.test(l))) return false;
  const lower = tld.toLowerCase();
  const www = labels.length > 2 && labels[0]!.toLowerCase() === 'www';
  if (www) return true;
  if (FILE_EXTENSIONS.has(lower)) return false;
  return lower.length === 2 || lower.startsWith('xn--') || COMMON_TLDS.has(lower) || hasPath;
}
