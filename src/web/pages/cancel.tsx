import { formatMoney } from '../../domain/guardrails/confirmation.js';
import type { Refund } from '../../domain/refund.js';
import { DASHBOARD_PATH } from '../paths.js';
import { CsrfField, Layout, Notice, type Viewer } from './layout.js';

/** The confirmation step: nothing is cancelled until this form is posted. */
export function CancelConfirmPage(props: { viewer: Viewer; refund: Refund }) {
  const { refund } = props;
  return (
    <Layout title={`Cancel refund ${refund.id}?`} viewer={props.viewer} section="refunds">
      <p>
        {formatMoney(refund.amount, refund.currency)} on {refund.transactionId}, status <strong>{refund.status}</strong>, processor {refund.processor}.
      </p>
      {refund.status === 'processing' ? (
        <Notice kind="error">
          This refund is already at {refund.processor}: the cancellation is asked of it, and it may refuse (the refund then stays processing or is
          completed).
        </Notice>
      ) : (
        <p>It has not reached its processor: it is cancelled here and never sent.</p>
      )}
      <form class="inline" method="post" action={`${DASHBOARD_PATH}/refunds/${refund.id}/cancel`}>
        <CsrfField token={props.viewer.csrfToken} />
        <button type="submit" class="danger">
          Yes, cancel {refund.id}
        </button>
        <a class="button secondary" href={`${DASHBOARD_PATH}/refunds/${refund.id}`}>
          No, keep it
        </a>
      </form>
    </Layout>
  );
}
