import Board
import Devices
import Foundation
import Testing

@Suite struct ShippedBoardTests {
    static let names = ["p2020-fpga", "ml507-ppc440"]

    func load(_ name: String) throws -> BoardProfile {
        try BoardProfile.parse(try repositoryFile("boards/\(name).yaml"), file: "boards/\(name).yaml", registry: DeviceKinds.standard)
    }

    @Test(arguments: names)
    func boardShowMatchesItsGoldenFile(name: String) throws {
        let text = BoardReport(profile: try load(name)).text
        let golden = try repositoryFile("Tests/BoardTests/Golden/\(name).txt")
        #expect(text == golden, "regenerate with: uioemu board show boards/\(name).yaml > Tests/BoardTests/Golden/\(name).txt")
    }

    @Test func theBoardsTableMatchesItsGoldenFile() throws {
        let listing = BoardListing(profiles: try Self.names.map(load))
        #expect(listing.text + "\n" == (try repositoryFile("Tests/BoardTests/Golden/boards.txt")))
    }

    @Test func theP2020Uses36BitAddressesAndTheMPIC() throws {
        let profile = try load("p2020-fpga")
        #expect(profile.cpu.physicalAddressBits == 36)
        #expect(profile.interruptController.kind == .mpic)
        let dma = try #require(profile.device(named: "fpga-dma"))
        #expect(dma.range.base == PhysicalAddress(0xF_FFB0_0000))
        #expect(dma.interrupt(named: "s2mm") == InterruptRoute(output: "s2mm", line: 2, sense: .levelHigh))
        #expect(dma.parameters(as: AXIDMAParameters.self)?.s2mm?.stream == "rx")
    }

    @Test func aBoardBuiltFromAProfileBacksOnlyItsDMAPool() throws {
        let board = Board(profile: try load("ml507-ppc440"))
        let ddr = try #require(board.ram["ddr2"])
        #expect(ddr.residentPages == Int(board.dmaPool.size / RAM.pageSize))
        #expect(ddr.isResident(offset: board.dmaPool.base.rawValue))
        #expect(!ddr.isResident(offset: 0))
        #expect(board.interrupts.sense(of: 13) == .levelHigh)
        #expect(board.bus.window(named: "axi-dma")?.endianness == .little)
        #expect(board.bus.read32(at: PhysicalAddress(0x8180_0000)).fault == BusFault(address: PhysicalAddress(0x8180_0000), count: 4, reason: .unmodelled))
    }

    @Test func theBoardReportEncodesAsJSON() throws {
        let data = try JSONEncoder().encode(BoardReport(profile: try load("p2020-fpga")))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let devices = try #require(object["devices"] as? [[String: Any]])
        let parameters = try #require(devices.first?["parameters"] as? [String: Any])
        #expect(parameters["lengthWidthBits"] as? Int == 23)
    }
}
