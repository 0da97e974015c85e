// The embedded BPF object travels as base64; a decoding slip would load garbage, so the decoder is checked
// against the RFC 4648 §10 vectors and on the real embedded object.

import Testing

@testable import SluiceXDP

@Suite struct Base64Tests {
    @Test(arguments: [
        ("", ""), ("Zg==", "f"), ("Zm8=", "fo"), ("Zm9v", "foo"), ("Zm9vYg==", "foob"), ("Zm9vYmE=", "fooba"),
        ("Zm9vYmFy", "foobar"), ("Zm9vYmFy\n", "foobar"), ("Zm9vYg", "foob"),
    ])
    func decodesRFC4648Vectors(encoded: String, plain: String) {
        #expect(Base64.decode(encoded) == Array(plain.utf8))
    }

    @Test func decodesAllByteValues() {
        // "AAECAwQF...+/w==" is bytes 0...255 encoded; check a slice of it plus the high alphabet characters.
        #expect(Base64.decode("AAECAwQFBgc=") == [0, 1, 2, 3, 4, 5, 6, 7])
        #expect(Base64.decode("+/7/") == [0xFB, 0xFE, 0xFF])
    }

    @Test(arguments: ["Zm9v!", "Z", "Zm9vY", "Zg==Zg==", "Zg==="])
    func rejectsMalformedInput(encoded: String) {
        #expect(Base64.decode(encoded) == nil)
    }

    @Test func embeddedObjectIsABPFELF() throws {
        let object = try #require(XDPProgram.embeddedObject())
        #expect(object.count > 1000)
        #expect(Array(object.prefix(4)) == [0x7F, 0x45, 0x4C, 0x46])  // ELF magic
        #expect(object[4] == 2)  // ELFCLASS64
        #expect(UInt16(object[18]) | UInt16(object[19]) << 8 == 247)  // e_machine EM_BPF (little endian)
    }
}
