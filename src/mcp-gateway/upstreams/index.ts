/**
 * The upstream side of the MCP gateway: configured MCP servers (stdio children or Streamable
 * HTTP endpoints), one lazy, self-healing connection each. The `/mcp` front door, the catalog
 * and the pipeline build on these.
 */
export {
  BuiltinUpstreamSchema,
  HttpUpstreamSchema,
  McpUpstreamSchema,
  McpUpstreamsSchema,
  SecretHeaderSchema,
  SecretRefSchema,
  StdioUpstreamSchema,
  ToolOverrideSchema,
  UpstreamNameSchema,
  type BuiltinUpstream,
  type HttpUpstream,
  type McpUpstream,
  type McpUpstreamInput,
  type SecretHeader,
  type SecretRef,
  type StdioUpstream,
  type ToolOverride,
} from './upstream-config.js';
export {
  MAX_TOOLS,
  UpstreamConnection,
  type CallOptions,
  type CallToolResult,
  type ToolListing,
  type UpstreamConnectionOptions,
  type UpstreamState,
  type UpstreamStatus,
} from './upstream-connection.js';
export { UpstreamManager, type UpstreamListing } from './upstream-manager.js';
export { TOOL_LIMITS, type JsonObject, type ToolAnnotations, type ToolIssue, type ToolIssueReason, type UpstreamTool } from './tool-definition.js';
export { toolMetadata, type ToolMetadata } from './tool-metadata.js';
export type { BackoffOptions } from './restart-backoff.js';
export type { ResolveSecret } from './upstream-transport.js';
