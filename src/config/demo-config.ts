/** The config `warden init` writes: every setting at its default, commented for people. */
export const DEMO_CONFIG = `# Warden configuration. Every key is optional; unknown keys are errors.
server:
  # host: 127.0.0.1          # or --host / WARDEN_HOST
  # port: 7070               # or --port / WARDEN_PORT
  # publicUrl: https://warden.example.com   # what agents use; issuer, audience and DPoP htu derive from it
  bodyLimit: 1048576         # bytes

# database:
#   url: postgres://warden@db.internal/warden   # or --database / WARDEN_DATABASE_URL; default: SQLite in the data dir

tokens:
  accessTokenTtlSec: 900     # access tokens live at most 15 minutes
  clockSkewSec: 5
  dpopMaxAgeSec: 60          # oldest accepted DPoP proof
  clientAssertionMaxAgeSec: 300

tasks:
  defaultLifetimeSec: 3600

oidc:
  # ID tokens from these issuers may prove the person an agent acts for (token exchange).
  issuers: []
  # - issuer: https://accounts.example.com
  #   audience: warden
  #   jwksUri: https://accounts.example.com/.well-known/jwks.json

secrets:
  # Seals upstream credentials; never stored in the database. Created on first start.
  # WARDEN_MASTER_KEY (32 bytes, base64 or base64url) wins over the file. Replicas that share
  # a database must share the key.
  masterKeyFile: keys/master.key   # relative to the data directory

approvals:
  waitSec: 30                # a held call waits this long for people, then APPROVAL_PENDING
  expirySec: 3600

# What agents reach through Warden (docs/gateway.md). MCP tools become <name>.<tool> at /mcp;
# HTTP APIs are /proxy/<name>/… with the actions <name>.<method>.
upstreams:
  mcp: []
  # - name: github
  #   transport: stdio
  #   command: npx
  #   args: [-y, "@modelcontextprotocol/server-github"]
  #   env: { GITHUB_PERSONAL_ACCESS_TOKEN: { secret: github.token } }   # warden secret set github.token
  #   defaults: { risk: medium }
  #   tools: { delete_repository: { risk: critical, tags: [destructive] } }
  #   # Every stdio server runs in a sandbox (docs/sandbox.md): no network but Warden's egress
  #   # proxy, read-only system, private scratch directory, limits. \`sandbox: false\` turns it off.
  #   sandbox:
  #     limits: { memoryMb: 512, pids: 256, cpus: 1, wallTimeSec: 86400 }
  #     egress: [github-api]          # HTTP upstreams (below) it may call, through the proxy
  #     mounts: [{ path: /srv/repos, writable: false }]
  # - name: shell                     # the built-in command runner: tool shell.exec, sandboxed
  #   transport: builtin
  #   server: exec
  http: []
  # - name: billing
  #   baseUrl: https://billing.example.com/api
  #   methods: [GET]
  #   pathPrefixes: [/invoices]
  #   credentials: [{ secret: billing.token, header: Authorization, format: "Bearer {value}" }]

limits:
  task: { calls: 10000, bytesOut: 67108864, bytesIn: 1073741824 }   # per task: BUDGET_EXCEEDED past these
  agent: { ratePerSec: 50, burst: 100 }                              # per agent: RATE_LIMITED past this

# How sandboxes are built on this host (docs/sandbox.md).
sandbox:
  bwrap: bwrap               # bubblewrap: a path or a name on PATH; without it sandboxed upstreams do not start
  runAs: { uid: 65534, gid: 65534 }   # the unprivileged user sandboxes run as when Warden runs as root
  limitsWith: auto           # auto | cgroup | rlimit
  proxyPort: 3128            # HTTP_PROXY inside each sandbox: http://127.0.0.1:3128

scanning:
  results: redact            # credentials in tool results and HTTP responses: redact | block | off
  arguments: block           # credentials in outgoing arguments: block | redact | off
`;
