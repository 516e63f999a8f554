import CoordClient
import Foundation
import StreamCore
import Transport

// coordctl: reads the real command line, environment and standard input, connects to the daemon over
// WebSocket (TLS for wss://), and exits with the command's status.

let status = await Coordctl.run(
    arguments: Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment,
    output: StandardStreams(), readLine: { Swift.readLine(strippingNewline: true) },
    connect: { options throws(StreamsError) in try WebSocketConnect.open(options) })
exit(status)
