//! The request pipeline: validate → txn (`PrepRequestProcessor`) → persist → apply
//! (`FinalRequestProcessor`). Pure: the node drives it.

pub mod java_set;
pub mod view;
pub mod acl;
pub mod path;
pub mod pending;
pub mod prep;
pub mod x500;
