package deb
import ("testing";"bytes";"math/rand";"time";"os";"io";"archive/tar";"path/filepath";"strconv";"fmt")
func TestHang(t *testing.T){
 files,_:=filepath.Glob("testdata/fuzz/FuzzRead/*")
 for _, fn := range files {
 b,_:=os.ReadFile(fn)
 lines:=bytes.SplitN(b,[]byte("\n"),3)
 s:=string(lines[1]); s=s[len("[]byte("):len(s)-1]
 q,err:=strconv.Unquote(s); if err!=nil {t.Fatal(err)}
 raw:=[]byte(q)
 rng:=rand.New(rand.NewSource(1))
 for i:=0;i<1500;i++{
  d:=append([]byte(nil),raw...)
  for k:=0;k<1+rng.Intn(4) && len(d)>16;k++{ 
    switch rng.Intn(3){case 0: d[rng.Intn(len(d))]=byte(rng.Intn(256))
    case 1: j:=rng.Intn(len(d)); d=append(d[:j:j], d[j+rng.Intn(len(d)-j):]...)
    case 2: j:=rng.Intn(len(d)-8); copy(d[j:], []byte{0xff,0xff,0xff,0x7f,0,0,0,0}[:rng.Intn(8)])}
  }
  done:=make(chan bool)
  go func(){ select{case <-done: case <-time.After(3*time.Second): os.WriteFile("/tmp/hang-"+filepath.Base(fn), d, 0644); panic(fmt.Sprint("hang ", fn, i))}}()
  st:=time.Now()
  Read(bytes.NewReader(d), func(h *tar.Header, b io.Reader) error { _,err:=io.Copy(io.Discard, io.LimitReader(b,1<<20)); return err})
  close(done)
  if el:=time.Since(st); el>300*time.Millisecond { t.Logf("%s %d took %v", fn, i, el) }
 }}
}
