//! The request pipeline: validate → txn (`PrepRequestProcessor`) → persist → apply
//! (`FinalRequestProcessor`). Pure: the node drives it.

pub mod acl;
pub mod java_set;
pub mod path;
pub mod pending;
pub mod prep;
pub mod view;
pub mod x500;
