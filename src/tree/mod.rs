//! The data tree (`DataTree`, `DataNode`): applies transactions, answers reads.
