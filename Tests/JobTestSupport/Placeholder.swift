import JobCore
