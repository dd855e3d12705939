import { cancelRefund } from './cancel-refund.js';
import { createRefund } from './create-refund.js';
import { getRefund } from './get-refund.js';
import { listRefundEvents } from './list-refund-events.js';
import { listRefunds } from './list-refunds.js';
import { previewRefund } from './preview-refund.js';
import type { Operation } from './operation.js';

/** Every operation, in the order tools/list shows them. Adding one is one file and one line here. */
export const allOperations: readonly Operation[] = [getRefund, listRefunds, listRefundEvents, previewRefund, createRefund, cancelRefund];
