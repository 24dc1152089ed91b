import PEFTTensor

/// A stored property that reflection recognises as a submodule slot.
protocol ModuleSlot: AnyObject {
    /// The Hugging Face key of the slot (`c_attn`), or of the list (`h`).
    var key: String { get }
    /// The submodules in the slot, keyed relative to the owner (`c_attn`, or `h.0`, `h.1`, ...).
    var entries: [(key: String, module: Module)] { get }
    /// Puts `module` where the entry with `key` is; throws when the slot's type does not accept it.
    func replace(key: String, with module: Module, path: String) throws
    /// The declared type, for error messages.
    var slotTypeName: String { get }
}

/// A stored property that reflection recognises as a parameter slot.
protocol ParameterSlot: AnyObject {
    var key: String { get }
    var parameter: Parameter? { get }
}

/// Marks a stored property as a named submodule that PEFT methods may replace.
///
/// The key is the Hugging Face name, and so the segment of every parameter path below it. The slot is
/// declared with its key and filled in the initialiser, after `super.init()`:
///
/// ```swift
/// @Child(key: "c_attn") var qkv: any LinearLayer
/// init(...) { super.init(); qkv = Conv1D(...) }
/// ```
///
/// The declared type is what the forward pass needs; ``Module/replaceModule(at:with:)`` accepts any
/// module of that type, such as a LoRA-wrapped linear in place of a linear.
@propertyWrapper
public final class Child<Value>: ModuleSlot {
    /// The Hugging Face key of this submodule.
    public let key: String
    private var module: Value?

    /// Creates an empty slot under `key`; the initialiser must fill it.
    public init(key: String) {
        self.key = key
    }

    /// The submodule.
    public var wrappedValue: Value {
        get {
            // An optional slot that was never set reads as nil.
            guard let module = module ?? ((Optional<Any>.none as Any) as? Value) else {
                preconditionFailure("@Child(key: \"\(key)\") was read before it was set")
            }
            return module
        }
        set {
            precondition(
                newValue is Module || Self.isNil(newValue),
                "@Child(key: \"\(key)\"): \(Value.self) is not a Module")
            module = newValue
        }
    }

    /// `true` for the `nil` of an optional slot (`@Child var head: Linear?`), which has no entry.
    private static func isNil(_ value: Value) -> Bool {
        let mirror = Mirror(reflecting: value)
        return mirror.displayStyle == .optional && mirror.children.isEmpty
    }

    var entries: [(key: String, module: Module)] {
        guard let module = module as? Module else { return [] }
        return [(key, module)]
    }

    var slotTypeName: String { "\(Value.self)" }

    func replace(key: String, with module: Module, path: String) throws {
        guard let typed = module as? Value else {
            throw ModuleTreeError.incompatibleReplacement(
                path: path, slot: slotTypeName, found: "\(type(of: module))")
        }
        self.module = typed
    }
}

/// Marks a stored array of submodules, keyed by index under one name (`h.0`, `h.1`, ...).
@propertyWrapper
public final class Children<Element>: ModuleSlot {
    /// The Hugging Face key of the list.
    public let key: String
    /// The submodules, in order.
    public var wrappedValue: [Element] = [] {
        didSet {
            precondition(
                wrappedValue.allSatisfy { $0 is Module },
                "@Children(key: \"\(key)\"): \(Element.self) is not a Module")
        }
    }

    /// Creates an empty list slot under `key`.
    public init(key: String) {
        self.key = key
    }

    var entries: [(key: String, module: Module)] {
        wrappedValue.enumerated().compactMap { index, element in
            (element as? Module).map { ("\(key).\(index)", $0) }
        }
    }

    var slotTypeName: String { "[\(Element.self)]" }

    func replace(key entryKey: String, with module: Module, path: String) throws {
        guard let index = Int(entryKey.dropFirst(key.count + 1)),
            wrappedValue.indices.contains(index)
        else {
            throw ModuleTreeError.moduleNotFound(path: path, candidates: entries.map(\.key))
        }
        guard let typed = module as? Element else {
            throw ModuleTreeError.incompatibleReplacement(
                path: path, slot: "\(Element.self)", found: "\(type(of: module))")
        }
        wrappedValue[index] = typed
    }
}

/// Marks a stored tensor as a named parameter; `$name` is the ``Parameter`` itself.
///
/// Assigning a tensor creates a fresh trainable parameter; assigning to `$name` shares an existing one
/// (tied weights).
///
/// ```swift
/// @Param(key: "weight") var weight: Tensor
/// ```
@propertyWrapper
public final class Param: ParameterSlot {
    /// The Hugging Face key of this parameter.
    public let key: String
    private var storedParameter: Parameter?

    /// Creates an empty slot under `key`; the initialiser must fill it.
    public init(key: String) {
        self.key = key
    }

    /// The parameter.
    public var projectedValue: Parameter {
        get {
            guard let storedParameter else {
                preconditionFailure("@Param(key: \"\(key)\") was read before it was set")
            }
            return storedParameter
        }
        set { storedParameter = newValue }
    }

    /// The parameter's current value; setting it creates a new trainable parameter.
    public var wrappedValue: Tensor {
        get { projectedValue.value }
        set { storedParameter = Parameter(newValue) }
    }

    var parameter: Parameter? { storedParameter }
}

/// Marks a stored optional tensor (a bias that may be absent) as a named parameter.
@propertyWrapper
public final class OptionalParam: ParameterSlot {
    /// The Hugging Face key of this parameter.
    public let key: String
    /// The parameter, or `nil` when absent.
    public var projectedValue: Parameter?

    /// Creates an empty slot under `key`.
    public init(key: String) {
        self.key = key
    }

    /// The parameter's current value, or `nil`; setting it creates a new trainable parameter.
    public var wrappedValue: Tensor? {
        get { projectedValue?.value }
        set { projectedValue = newValue.map { Parameter($0) } }
    }

    var parameter: Parameter? { projectedValue }
}
