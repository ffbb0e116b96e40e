"""A throw-away PostgreSQL on 127.0.0.1 for the benchmark and soak scripts.

initdb in a folder of the caller's (as the postgres user when run as root),
scram password auth, fsync off; `stop()` ends it at once.
"""
import glob
import os
import socket
import subprocess


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Postgres:
    def __init__(self, root):
        self.dir = os.path.join(root, "pg")
        self.port = free_port()
        os.makedirs(self.dir)
        pwfile = os.path.join(root, "pgpass")
        with open(pwfile, "w") as f:
            f.write("s3cret\n")
        self.bin = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]
        self.as_ = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if os.geteuid() == 0:
            subprocess.run(["chown", "-R", "postgres", self.dir, pwfile], check=True)
            os.chmod(root, 0o755)
        subprocess.run(self.as_ + [f"{self.bin}/initdb", "-D", self.dir, "-U", "etl",
                                   "--auth=scram-sha-256", f"--pwfile={pwfile}"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(os.path.join(self.dir, "postgresql.conf"), "a") as f:
            f.write("max_connections = 200\nfsync = off\n")
        subprocess.run(self.as_ + [f"{self.bin}/pg_ctl", "-D", self.dir, "-l",
                                   os.path.join(self.dir, "log"), "-w", "-o",
                                   f"-p {self.port} -k {self.dir} -h 127.0.0.1", "start"],
                       check=True, stdout=subprocess.DEVNULL)

    def url(self, db):
        return f"postgresql://etl:s3cret@127.0.0.1:{self.port}/{db}"

    def sql(self, query, db="postgres"):
        out = subprocess.run(["psql", "-At", "-h", "127.0.0.1", "-p", str(self.port), "-U", "etl",
                              "-d", db, "-c", query], env={**os.environ, "PGPASSWORD": "s3cret"},
                             check=True, capture_output=True, text=True).stdout
        return [line.split("|") for line in out.splitlines() if line]

    def stop(self):
        subprocess.run(self.as_ + [f"{self.bin}/pg_ctl", "-D", self.dir, "-m", "immediate",
                                   "stop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
