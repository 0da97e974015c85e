public let placeholderBPF = 0
