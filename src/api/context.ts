import type { ApprovalService } from '../approvals/approval-service.js';
import type { AuditService } from '../audit/audit-service.js';
import type { AuditShipper } from '../audit/export/index.js';
import type { ConfigFile } from '../config/schema.js';
import type { AccessTokenVerifier } from '../credentials/access-token/verify.js';
import type { SigningKeyRing } from '../credentials/keys/signing-keys.js';
import type { TokenEndpoint } from '../credentials/token-endpoint/token-endpoint.js';
import type { EventLog } from '../events/event-log.js';
import type { AgentService } from '../identity/agent-service.js';
import type { PersonService } from '../identity/person-service.js';
import type { TaskService } from '../identity/task-service.js';
import type { PolicyService } from '../policy/policy-service.js';
import type { AuthorizedCall, ToolCall } from '../pipeline/stages/authorize.js';
import type { VerifiedCredential } from '../pipeline/verified-credential.js';
import type { RequestVerifier } from '../pipeline/verify-request.js';
import type { RevocationSet } from '../revocation/revocation-set.js';
import type { SecretService } from '../secrets/secret-service.js';
import type { Store } from '../store/store.js';
import type { Clock } from '../util/clock.js';
import type { McpGateway } from '../mcp-gateway/gateway.js';
import type { UpstreamSandboxes } from '../sandbox/upstream-sandboxes.js';
import type { ToolCatalog } from '../mcp-gateway/catalog.js';
import type { HttpProxy } from '../egress/proxy.js';
import type { UpstreamManager } from '../mcp-gateway/upstreams/upstream-manager.js';

/** Where agents and people reach this Warden; every URL-bound check derives from it. */
export interface PublicUrls {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:7070`. */
  readonly base: string;
  readonly issuer: string;
  readonly audience: string;
  readonly tokenEndpoint: string;
}

/** Everything the routes need, built once at start-up. */
export interface ApiContext {
  readonly config: ConfigFile;
  readonly urls: PublicUrls;
  readonly clock: Clock;
  readonly store: Store;
  readonly events: EventLog;
  readonly revocations: RevocationSet;
  readonly keys: SigningKeyRing;
  readonly persons: PersonService;
  readonly agents: AgentService;
  readonly tasks: TaskService;
  readonly policy: PolicyService;
  /** Held calls and people's decisions on them (`/v1/approvals`). */
  readonly approvals: ApprovalService;
  /** Upstream credentials, sealed under the master key (`/v1/secrets`; injection and redaction). */
  readonly secrets: SecretService;
  /** The audit log's tree: checkpoints, proofs (`/v1/audit`). */
  readonly audit: AuditService;
  /** Exporters following the log to SIEMs (`audit.export`). */
  readonly exporters: readonly AuditShipper[];
  /** The approve stage: resolves when people approved this exact call, else throws. */
  readonly approve: (call: AuthorizedCall, cred: VerifiedCredential, toolCall: ToolCall) => Promise<string | null>;
  readonly tokenEndpoint: TokenEndpoint;
  readonly accessTokens: AccessTokenVerifier;
  readonly requests: RequestVerifier;
  /** The MCP front door, when upstream MCP servers are configured. */
  readonly gateway?: McpGateway;
  /** Sandboxing of the MCP upstreams (absent without MCP upstreams). */
  readonly sandboxes?: UpstreamSandboxes;
  /** Upstream tools as pinned, and the review of their changes (`/v1/tools`). */
  readonly catalog?: ToolCatalog;
  /** The HTTP egress front door, when HTTP upstreams are configured. */
  readonly proxy?: HttpProxy;
  /** The MCP upstreams' connections: state and sandboxing (`/v1/upstreams`). */
  readonly upstreams?: UpstreamManager;
}
