import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.curator.framework.api.transaction.OperationType;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.data.Stat;

/** client.transaction().forOperations(...): per-op results on success and on failure. */
final class TransactionChecks {
    private final CuratorSuite s;
    private final Harness h;
    private final String dir = CuratorSuite.BASE + "/txn";

    TransactionChecks(CuratorSuite s, Harness h) {
        this.s = s;
        this.h = h;
    }

    void run() throws Exception {
        CuratorFramework c = s.client();
        c.create().forPath(dir);
        c.create().forPath(dir + "/old");
        h.check("transaction_success_results", () -> success(c));
        h.check("transaction_failure_foreground", () -> failureForeground(c));
        h.check("transaction_failure_background_per_op_results", () -> failureBackground(c));
    }

    void success(CuratorFramework c) throws Exception {
        List<CuratorTransactionResult> r = c.transaction().forOperations(
                c.transactionOp().create().forPath(dir + "/a", CuratorSuite.bytes("1")),
                c.transactionOp().create().withMode(CreateMode.PERSISTENT_SEQUENTIAL).forPath(dir + "/seq-"),
                c.transactionOp().setData().forPath(dir + "/a", CuratorSuite.bytes("2")),
                c.transactionOp().check().withVersion(1).forPath(dir + "/a"),
                c.transactionOp().delete().forPath(dir + "/old"));
        List<OperationType> types = new ArrayList<>();
        for (CuratorTransactionResult x : r) {
            types.add(x.getType());
            Harness.equal(0, x.getError(), "error of " + x.getType() + " " + x.getForPath());
        }
        Harness.equal(List.of(OperationType.CREATE, OperationType.CREATE, OperationType.SET_DATA,
                OperationType.CHECK, OperationType.DELETE), types, "result types");
        Harness.equal(dir + "/a", r.get(0).getResultPath(), "create result path");
        Harness.require(r.get(1).getResultPath().matches(dir + "/seq-\\d{10}"), "sequential path " + r.get(1).getResultPath());
        Harness.equal(1, r.get(2).getResultStat().getVersion(), "setData result version");
        Stat st = new Stat();
        Harness.equal("2", CuratorSuite.text(c.getData().storingStatIn(st).forPath(dir + "/a")), "data after commit");
        Harness.require(c.checkExists().forPath(dir + "/old") == null, "deleted in the transaction");
    }

    CuratorOp[] failingOps(CuratorFramework c) throws Exception {
        return new CuratorOp[] {
            c.transactionOp().create().forPath(dir + "/b"),
            c.transactionOp().setData().forPath(dir + "/a", CuratorSuite.bytes("3")),
            c.transactionOp().check().withVersion(99).forPath(dir + "/a"),
            c.transactionOp().delete().forPath(dir + "/a"),
        };
    }

    /** Ops before the failing one report OK, the failing one its error, later ones RuntimeInconsistency. */
    static final List<Integer> FAILED_CODES = List.of(
            KeeperException.Code.OK.intValue(),
            KeeperException.Code.OK.intValue(),
            KeeperException.Code.BADVERSION.intValue(),
            KeeperException.Code.RUNTIMEINCONSISTENCY.intValue());

    void unchanged(CuratorFramework c) throws Exception {
        Harness.require(c.checkExists().forPath(dir + "/b") == null, "nothing of a failed transaction applied");
        Stat st = new Stat();
        Harness.equal("2", CuratorSuite.text(c.getData().storingStatIn(st).forPath(dir + "/a")), "data kept");
        Harness.equal(1, st.getVersion(), "version kept");
    }

    void failureForeground(CuratorFramework c) throws Exception {
        try {
            c.transaction().forOperations(failingOps(c));
            throw new AssertionError("transaction with a bad version check succeeded");
        } catch (KeeperException.BadVersionException e) {
            List<Integer> codes = new ArrayList<>();
            for (OpResult r : e.getResults()) {
                Harness.require(r instanceof OpResult.ErrorResult, "ErrorResult for every op, got " + r);
                codes.add(((OpResult.ErrorResult) r).getErr());
            }
            Harness.equal(FAILED_CODES, codes, "per-op error codes");
        }
        unchanged(c);
    }

    void failureBackground(CuratorFramework c) throws Exception {
        CountDownLatch done = new CountDownLatch(1);
        AtomicReference<CuratorEvent> got = new AtomicReference<>();
        c.transaction().inBackground((client, event) -> {
            got.set(event);
            done.countDown();
        }).forOperations(failingOps(c));
        Harness.await(done, 10, "background transaction result");
        CuratorEvent e = got.get();
        Harness.equal(KeeperException.Code.BADVERSION.intValue(), e.getResultCode(), "result code");
        List<Integer> codes = new ArrayList<>();
        for (CuratorTransactionResult r : e.getOpResults()) {
            codes.add(r.getError());
        }
        Harness.equal(FAILED_CODES, codes, "per-op error codes");
        unchanged(c);
    }
}
