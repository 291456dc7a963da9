import java.io.File;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.server.persistence.FileTxnLog;
import org.apache.zookeeper.txn.CreateTxn;
import org.apache.zookeeper.txn.TxnHeader;

/**
 * Append+fsync throughput of Apache ZooKeeper's FileTxnLog, for `rzk storage-bench`.
 * Args: <dir> <seconds per batch size> <batch size>...
 * Prints one line per batch size: `batch <n> txns <count> seconds <s>`.
 */
public final class ZkStorageBench {
    public static void main(String[] args) throws Exception {
        File root = new File(args[0]);
        double seconds = Double.parseDouble(args[1]);
        byte[] data = new byte[100];
        for (int a = 2; a < args.length; a++) {
            int batch = Integer.parseInt(args[a]);
            File dir = new File(root, "batch-" + batch);
            dir.mkdirs();
            FileTxnLog log = new FileTxnLog(dir);
            long zxid = 0;
            long start = System.nanoTime();
            long deadline = start + (long) (seconds * 1e9);
            while (System.nanoTime() < deadline) {
                for (int i = 0; i < batch; i++) {
                    zxid++;
                    TxnHeader hdr = new TxnHeader(1, (int) zxid, zxid, System.currentTimeMillis(), ZooDefs.OpCode.create);
                    log.append(hdr, new CreateTxn("/bench/n" + zxid, data, ZooDefs.Ids.OPEN_ACL_UNSAFE, false, (int) zxid));
                }
                log.commit();
            }
            double took = (System.nanoTime() - start) / 1e9;
            log.close();
            System.out.println("batch " + batch + " txns " + zxid + " seconds " + took);
        }
    }
}
