/** Where `npm run mutate:report` keeps the mutation results and the reasons for survivors. */
export const RESULTS_FILE = 'docs/mutation-results.json';
export const REASONS_FILE = 'docs/mutation-reasons.json';
export const SURVIVORS_FILE = 'docs/mutation-survivors.md';
/** The scopes totalled at the top of the page: the bar is set on src/domain and src/store. */
export const SCOPES = ['src/domain/', 'src/store/', 'src/store/sqlite/', 'src/store/postgres/', 'src/mcp/', 'src/http/'];
