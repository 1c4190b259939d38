export default function Forbidden() {
  return (
    <main className="message">
      <div className="card" role="alert">
        <h1>This page is not for your account</h1>
        <p>It belongs to another course, or to the course&apos;s teachers. Open Gradesync from the assignment in your own course.</p>
      </div>
    </main>
  );
}
