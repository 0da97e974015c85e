// The workers' mailbox: requests run in order on the serving side, a full mailbox refuses more,
// serving an empty mailbox does nothing, and answers gathered from several workers come back when
// the last one answers or, for a worker that never serves its mailbox, at the deadline.

import Synchronization
import Testing

@testable import SluiceXDP

struct Tally: ~Copyable {
    var seen: [Int] = []
}

@Suite struct WorkerMailboxTests {
    @Test func requestsRunInOrderBetweenBatches() {
        let mailbox = WorkerMailbox<Tally>(capacity: 4)
        var tally = Tally()
        mailbox.serve(&tally)
        #expect(tally.seen.isEmpty)
        for i in 0..<4 {
            #expect(
                mailbox.post {
                    $0.seen.append(i)
                    return true
                })
        }
        #expect(
            !mailbox.post {
                $0.seen.append(99)
                return true
            })
        #expect(mailbox.count == 4)
        mailbox.serve(&tally)
        #expect(tally.seen == [0, 1, 2, 3])
        #expect(mailbox.count == 0)
        #expect(
            mailbox.post {
                $0.seen.append(4)
                return true
            })
        mailbox.serve(&tally)
        #expect(tally.seen == [0, 1, 2, 3, 4])
    }

    @Test func aRequestInSlicesStaysUntilFinished() {
        let mailbox = WorkerMailbox<Tally>(capacity: 4)
        var tally = Tally()
        // Three slices: each visit appends one number and reports done at the third.
        #expect(
            mailbox.post { t in
                let slice = t.seen.filter { $0 < 100 }.count
                t.seen.append(slice)
                return slice == 2
            })
        mailbox.serve(&tally)
        #expect(tally.seen == [0] && mailbox.count == 1)
        // A request posted meanwhile runs after the unfinished one, in the same visit.
        #expect(
            mailbox.post { t in
                t.seen.append(100)
                return true
            })
        mailbox.serve(&tally)
        #expect(tally.seen == [0, 1, 100] && mailbox.count == 1)
        mailbox.serve(&tally)
        #expect(tally.seen == [0, 1, 100, 2] && mailbox.count == 0)
    }

    @Test func answersArriveFromEveryWorker() async {
        let answers = WorkerAnswers<Int>(workers: 3)
        let boxes = (0..<3).map { _ in WorkerMailbox<Tally>() }
        for (index, box) in boxes.enumerated() {
            #expect(
                box.post { tally in
                    answers.answer(index, index * 10 + tally.seen.count)
                    return true
                })
        }
        let served = Task.detached {
            for box in boxes {
                var tally = Tally()
                tally.seen = [7]
                box.serve(&tally)
            }
        }
        let result = await answers.wait(timeout: .seconds(5))
        await served.value
        #expect(result == [1, 11, 21])
    }

    @Test func aStalledWorkerAnswersNilAtTheDeadline() async {
        let answers = WorkerAnswers<Int>(workers: 2)
        answers.answer(0, 5)
        // Returns at all: worker 1 never answers, only the deadline ends the wait.
        let result = await answers.wait(timeout: .milliseconds(50))
        #expect(result == [5, nil])
        answers.answer(1, 6)  // late: dropped, no crash
        let skipped = WorkerAnswers<Int>(workers: 1)
        skipped.skip(0)
        #expect(await skipped.wait(timeout: .seconds(5)) == [nil])
    }
}
