//! The request pipeline: validate → txn (`PrepRequestProcessor`) → persist → apply
//! (`FinalRequestProcessor`). Pure: the node drives it.

pub mod view;
