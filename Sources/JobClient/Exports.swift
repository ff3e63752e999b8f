// `import JobClient` is all a program needs: the job and session types (JobCore) and the
// protocol's requests and replies (JobProtocol) come with it.
@_exported import JobCore
@_exported import JobProtocol
