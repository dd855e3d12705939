/** Kept equal to package.json's version (a test checks), so the server reports what it is. */
export const VERSION = '0.1.0';
export const SERVER_NAME = 'refundkit-mcp';
