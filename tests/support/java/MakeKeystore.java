// Finishes a PKCS#12 keystore the way the reference Java service (PKCS12KeyStoreImpl) leaves it,
// and encrypts test data to its keys with the JDK, for tests/integration/test_keystore_import.py.
//
// Run as a single-file source program (JDK 11+), after keytool made the key pairs:
//
//   java MakeKeystore.java KEYSTORE PASSWORD_FILE OUTPUT MODULE_ALIAS BASE_ALIAS ZK_ALIAS
//
// What the reference does, and this does too:
// - KeyStore.getInstance("PKCS12") (the JDK's own provider), one password (the first line of
//   PASSWORD_FILE, i.e. mosip.kernel.keymanager.hsm.keystore-pass) for the file and every entry;
// - every private-key entry holds a chain of ONE certificate (storeCertificate(alias, key, cert));
// - the ZK master key is an AES-256 SecretKeyEntry (generateAndStoreSymmetricKey);
// - the file is rewritten with KeyStore.store after each change.
//
// Then, as the reference's cryptomanager would:
// - a base key (BASE_ALIAS, issued by the module key) leaves the keystore: its PKCS#8 private key
//   is wrapped by the module key (key_store.private_key format) and the entry is deleted;
// - data is encrypted in the /encrypt VER_R2 layout to the module key and to the base key;
// - a random ZK key is wrapped by the ZK master key (data_encrypt_keystore.key format).
//
// OUTPUT receives name=value lines (hex, base64url without padding, or standard base64 for the
// ZK row, as each column holds it). Test data only: nothing here is a secret of anyone's.
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.spec.MGF1ParameterSpec;
import java.util.Base64;
import java.util.Collections;
import java.util.HexFormat;
import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;
import javax.crypto.spec.SecretKeySpec;

public class MakeKeystore {
    static final byte[] VERSION_HEADER = "VER_R2".getBytes(StandardCharsets.US_ASCII);
    static final byte[] KEY_SPLITTER = "#KEY_SPLITTER#".getBytes(StandardCharsets.US_ASCII);
    static final SecureRandom RANDOM = new SecureRandom();

    public static void main(String[] args) throws Exception {
        if (args.length != 6) {
            System.err.println("usage: java MakeKeystore.java KEYSTORE PASSWORD_FILE OUTPUT MODULE_ALIAS BASE_ALIAS ZK_ALIAS");
            System.exit(2);
        }
        Path keystorePath = Path.of(args[0]);
        char[] password = Files.readAllLines(Path.of(args[1]), StandardCharsets.UTF_8).get(0).toCharArray();
        String moduleAlias = args[3], baseAlias = args[4], zkAlias = args[5];
        KeyStore.PasswordProtection protection = new KeyStore.PasswordProtection(password);

        KeyStore keyStore = KeyStore.getInstance("PKCS12");
        try (FileInputStream in = new FileInputStream(keystorePath.toFile())) {
            keyStore.load(in, password);
        }

        // The base key leaves the keystore: the reference keeps it in key_store, wrapped.
        KeyStore.PrivateKeyEntry base = (KeyStore.PrivateKeyEntry) keyStore.getEntry(baseAlias, protection);
        keyStore.deleteEntry(baseAlias);

        // Chains of one certificate, as storeCertificate(alias, privateKey, certificate) writes them.
        for (String alias : Collections.list(keyStore.aliases())) {
            if (keyStore.entryInstanceOf(alias, KeyStore.PrivateKeyEntry.class)) {
                KeyStore.PrivateKeyEntry entry = (KeyStore.PrivateKeyEntry) keyStore.getEntry(alias, protection);
                Certificate leaf = entry.getCertificateChain()[0];
                keyStore.setEntry(alias, new KeyStore.PrivateKeyEntry(entry.getPrivateKey(), new Certificate[] {leaf}),
                        protection);
            }
        }

        // The ZK master key (KERNEL/IDENTITY_CACHE): an AES-256 secret-key entry.
        KeyGenerator generator = KeyGenerator.getInstance("AES");
        generator.init(256, new SecureRandom());
        SecretKey zkMaster = generator.generateKey();
        keyStore.setEntry(zkAlias, new KeyStore.SecretKeyEntry(zkMaster), protection);

        try (FileOutputStream out = new FileOutputStream(keystorePath.toFile())) {
            keyStore.store(out, password);
        }

        Certificate moduleCertificate = keyStore.getCertificate(moduleAlias);
        Certificate baseCertificate = base.getCertificate();
        byte[] modulePlain = randomBytes(100), basePlain = randomBytes(77), zkRandom = randomBytes(32);

        try (PrintWriter out = new PrintWriter(args[2], StandardCharsets.UTF_8)) {
            out.println("module.thumbprint=" + thumbprint(moduleCertificate));
            out.println("module.plaintext=" + b64url(modulePlain));
            out.println("module.envelope=" + b64url(envelope(moduleCertificate, modulePlain)));
            out.println("base.thumbprint=" + thumbprint(baseCertificate));
            out.println("base.certificate=" + Base64.getEncoder().encodeToString(baseCertificate.getEncoded()));
            out.println("base.wrapped=" + b64url(wrapPrivateKey(moduleCertificate.getPublicKey(), base.getPrivateKey())));
            out.println("base.plaintext=" + b64url(basePlain));
            out.println("base.envelope=" + b64url(envelope(baseCertificate, basePlain)));
            out.println("zk.random=" + HexFormat.of().formatHex(zkRandom));
            out.println("zk.wrapped=" + Base64.getEncoder().encodeToString(aesEcb(zkMaster, zkRandom)));
        }
    }

    static byte[] randomBytes(int length) {
        byte[] bytes = new byte[length];
        RANDOM.nextBytes(bytes);
        return bytes;
    }

    static String b64url(byte[] data) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(data);
    }

    static byte[] sha256(byte[] data) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(data);
    }

    static String thumbprint(Certificate certificate) throws Exception {
        return HexFormat.of().withUpperCase().formatHex(sha256(certificate.getEncoded()));
    }

    /** RSA-OAEP with SHA-256 and MGF1-SHA-256, empty label (the reference's asymmetric cipher). */
    static byte[] oaep(PublicKey publicKey, byte[] data) throws Exception {
        Cipher cipher = Cipher.getInstance("RSA/ECB/OAEPWithSHA-256AndMGF1Padding");
        cipher.init(Cipher.ENCRYPT_MODE, publicKey, new OAEPParameterSpec("SHA-256", "MGF1",
                MGF1ParameterSpec.SHA256, PSource.PSpecified.DEFAULT));
        return cipher.doFinal(data);
    }

    static byte[] gcm(SecretKey key, byte[] iv, byte[] aad, byte[] data) throws Exception {
        Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
        cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(128, iv));
        if (aad != null) {
            cipher.updateAAD(aad);
        }
        return cipher.doFinal(data);
    }

    static SecretKey sessionKey() {
        return new SecretKeySpec(randomBytes(32), "AES");
    }

    /** VER_R2 ‖ SHA-256(cert) ‖ OAEP(S) ‖ splitter ‖ aad32 ‖ GCM(S, nonce = aad32[0:12], aad = aad32). */
    static byte[] envelope(Certificate certificate, byte[] plain) throws Exception {
        SecretKey session = sessionKey();
        byte[] aad = randomBytes(32);
        byte[] nonce = java.util.Arrays.copyOf(aad, 12);
        return concat(VERSION_HEADER, sha256(certificate.getEncoded()), oaep(certificate.getPublicKey(),
                session.getEncoded()), KEY_SPLITTER, aad, gcm(session, nonce, aad, plain));
    }

    /** key_store.private_key: OAEP(master, S) ‖ splitter ‖ GCM(S, iv16)(PKCS#8) ‖ iv16. */
    static byte[] wrapPrivateKey(PublicKey master, PrivateKey privateKey) throws Exception {
        SecretKey session = sessionKey();
        byte[] iv = randomBytes(16);
        return concat(oaep(master, session.getEncoded()), KEY_SPLITTER, gcm(session, iv, null,
                privateKey.getEncoded()), iv);
    }

    static byte[] aesEcb(SecretKey key, byte[] data) throws Exception {
        Cipher cipher = Cipher.getInstance("AES/ECB/NoPadding");
        cipher.init(Cipher.ENCRYPT_MODE, key);
        return cipher.doFinal(data);
    }

    static byte[] concat(byte[]... parts) {
        int length = 0;
        for (byte[] part : parts) {
            length += part.length;
        }
        byte[] out = new byte[length];
        int offset = 0;
        for (byte[] part : parts) {
            System.arraycopy(part, 0, out, offset, part.length);
            offset += part.length;
        }
        return out;
    }
}
