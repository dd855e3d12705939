import type { ToolDefinition } from '../tool.js';
import { cancelRefundTool } from './cancel-refund.js';
import { createRefundTool } from './create-refund.js';
import { getRefundTool } from './get-refund.js';
import { listRefundsTool } from './list-refunds.js';

/** Every tool the server offers, in the order tools/list shows them. */
export const allTools: readonly ToolDefinition[] = [getRefundTool, listRefundsTool, createRefundTool, cancelRefundTool];
