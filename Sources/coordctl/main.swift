import CoordClient
import Foundation
import StreamCore
import Transport

// coordctl: reads the real command line, environment and standard input, connects over WebSocket,
// and exits with the command's status.

let arguments = Array(CommandLine.arguments.dropFirst())
let environment = ProcessInfo.processInfo.environment
let status = await Coordctl.run(
    arguments: arguments, environment: environment, output: StandardStreams(), readLine: { Swift.readLine() },
    connect: { options throws(StreamsError) in
        throw StreamsError.storeUnavailable.with(message: "cannot reach \(options.server): this build has no WebSocket transport")
    })
exit(status)
