//! multi (op 14): every op prepared in order against the overlay, all or nothing
//! (the `OpCode.multi` case of `PrepRequestProcessor.pRequestHelper`).

use super::{Cursor, Fail};
use crate::proto::{ErrorCode, Request, Txn};

impl Cursor<'_> {
    /// Later ops see the changes of earlier ones. At the first failing op the changes of
    /// this multi are rolled back; that op becomes `ErrorTxn(code)`, the ones after it
    /// `ErrorTxn(RuntimeInconsistency)`, and the ones before keep their real txns (the
    /// applier turns a multi holding an error into a no-op).
    pub(super) fn multi(&mut self, ops: &[Request]) -> Txn {
        if !ops.iter().all(is_multi_write) {
            // Java cannot even decode such a multi.
            return Txn::Error(ErrorCode::MarshallingError);
        }
        let checkpoint = self.pending.checkpoint();
        let mut txns = Vec::with_capacity(ops.len());
        let mut failed = false;
        for op in ops {
            if failed {
                txns.push(Txn::Error(ErrorCode::RuntimeInconsistency));
                continue;
            }
            match self.single(op) {
                Ok(txn) => txns.push(txn),
                Err(Fail::Code(code)) => {
                    failed = true;
                    txns.push(Txn::Error(code));
                    self.pending.rollback(checkpoint.clone());
                }
                // A non-Keeper exception escapes Java's loop: the whole request fails
                // and, as there, the changes of earlier ops stay pending until this
                // zxid is applied.
                Err(Fail::Internal) => return Txn::Error(ErrorCode::MarshallingError),
            }
        }
        Txn::Multi(txns)
    }
}

/// The write ops `MultiOperationRecord` accepts.
fn is_multi_write(op: &Request) -> bool {
    matches!(
        op,
        Request::Create(_)
            | Request::Create2(_)
            | Request::CreateContainer(_)
            | Request::CreateTtl(_)
            | Request::Delete(_)
            | Request::SetData(_)
            | Request::Check(_)
    )
}
