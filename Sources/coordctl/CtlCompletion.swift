/// Shell completion scripts, made from the same tables as the help and the parser: the command table
/// (``CtlHelp/commands``), the groups with subcommands and the options each command takes
/// (``CtlArguments``), so a new command or option completes as soon as it parses.
enum CtlCompletion {
    /// The shells coordctl writes a script for.
    enum Shell: String, Sendable, Equatable, CaseIterable {
        case bash
        case zsh
    }

    /// The script for `shell`.
    static func script(_ shell: Shell) -> String {
        switch shell {
        case .bash: return bash
        case .zsh: return zsh
        }
    }

    /// The words completing after `command` (nil: before any command; a group's name: its subcommands).
    static func candidates(after command: String?) -> [String] {
        guard let command else {
            var firstWords: [String] = []
            for entry in CtlHelp.commands {
                let first = String(entry.name.split(separator: " ")[0])
                if !firstWords.contains(first) { firstWords.append(first) }
            }
            return firstWords + ["help"] + options(of: nil)
        }
        if CtlArguments.groups[command] != nil {
            return CtlHelp.commands.compactMap { entry in
                let words = entry.name.split(separator: " ")
                return words.count == 2 && words[0] == command ? String(words[1]) : nil
            }
        }
        if command == "completion" { return Shell.allCases.map(\.rawValue) }
        return options(of: command)
    }

    /// The options of `command` and the global ones, sorted (nil: the global ones).
    private static func options(of command: String?) -> [String] {
        let names = CtlArguments.options.filter { _, option in
            option.commands == nil || command.map { option.commands?.contains($0) == true } == true
        }.keys
        return names.sorted() + ["--help", "--version"]
    }

    /// Options whose value is the next word, which is therefore never a command.
    private static var valueOptions: String {
        CtlArguments.options.filter { $0.value.takesValue }.keys.sorted().joined(separator: "|")
    }

    private static var groupNames: String { CtlArguments.groups.keys.sorted().joined(separator: "|") }

    /// The `case` that reads one word of the line into `cmd` (the command and its subcommand), the same in
    /// both shells but for how the value after an option is skipped.
    private static func scan(skippingValue skip: String) -> String {
        """
                case $word in
                    \(valueOptions)) \(skip) ;;
                    -*) ;;
                    *) case $cmd in
                           "") cmd=$word ;;
                           \(groupNames)) cmd="$cmd $word" ;;
                       esac ;;
                esac
        """
    }

    /// `case` arms mapping the command seen so far to its candidates, in `shell`'s syntax.
    private static func arms(indent: String, assign: (String) -> String) -> String {
        var commands: [String] = []
        for entry in CtlHelp.commands {
            let words = entry.name.split(separator: " ").map(String.init)
            if words.count == 2, !commands.contains(words[0]) { commands.append(words[0]) }
            commands.append(entry.name)
        }
        var lines = ["\(indent)\"\") \(assign(candidates(after: nil).joined(separator: " "))) ;;"]
        for command in commands {
            lines.append("\(indent)\"\(command)\") \(assign(candidates(after: command).joined(separator: " "))) ;;")
        }
        lines.append("\(indent)*) \(assign(options(of: nil).joined(separator: " "))) ;;")
        return lines.joined(separator: "\n")
    }

    private static var bash: String {
        """
        # bash completion for coordctl: source <(coordctl completion bash)
        _coordctl() {
            local cur=${COMP_WORDS[COMP_CWORD]} cmd="" word i words
            for ((i = 1; i < COMP_CWORD; i++)); do
                word=${COMP_WORDS[i]}
        \(scan(skippingValue: "((i++))"))
            done
            case $cmd in
        \(arms(indent: "        ") { "words=\"\($0)\"" })
            esac
            COMPREPLY=($(compgen -W "$words" -- "$cur"))
        }
        complete -F _coordctl coordctl

        """
    }

    private static var zsh: String {
        """
        #compdef coordctl
        # zsh completion for coordctl: source <(coordctl completion zsh), after compinit
        _coordctl() {
            local cmd="" word skip=0
            local -a candidates
            for word in "${(@)words[2,CURRENT-1]}"; do
                if (( skip )); then skip=0; continue; fi
        \(scan(skippingValue: "skip=1"))
            done
            case $cmd in
        \(arms(indent: "        ") { "candidates=(\($0))" })
            esac
            compadd -- $candidates
        }
        compdef _coordctl coordctl

        """
    }
}
