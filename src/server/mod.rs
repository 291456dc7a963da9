//! Client-port shell (`NIOServerCnxnFactory`): accept, framing, four-letter words.
