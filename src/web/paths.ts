/** Where the dashboard is served: every page, form and the stylesheet live under it. */
export const DASHBOARD_PATH = '/dashboard';
