/// An event loop runs the jobs of tasks that prefer it (`withTaskExecutorPreference(loop)`,
/// `Task(executorPreference: loop)`) on its own thread, with the work submitted through
/// ``EventLoop/execute(_:)``.
///
/// A task that reads a stream of this loop then wakes where the stream's bytes arrive: a continuation
/// resumed while the loop handles a read runs in the same turn, with no other thread woken and no
/// memory handed between cores. Such a task must not block (no blocking system call, no lock held
/// across slow work): while it runs, nothing else on the loop does.
///
/// A job enqueued after the loop stopped runs on the global concurrent executor instead, so a task
/// outliving its loop still finishes.
extension EventLoop: TaskExecutor {
    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let accepted = execute { [self] in job.runSynchronously(on: asUnownedTaskExecutor()) }
        if !accepted { globalConcurrentExecutor.enqueue(ExecutorJob(job)) }
    }
}
